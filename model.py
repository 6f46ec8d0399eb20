"""mx.model: MXNet 1.x's checkpoint files, a `prefix-symbol.json` graph plus
`prefix-%04d.params` weights whose keys say which dict each array belongs to
('arg:<name>' for arguments, 'aux:<name>' for auxiliary states such as BatchNorm's running
statistics).  MXNet's Module, HybridBlock.export and plait's export write this pair;
load_checkpoint gives back the (symbol, arg_params, aux_params) triple that
Symbol.bind/simple_bind + Executor.copy_params_from, SymbolBlock and mx.onnx.export_model
take.  Only mx.sym.load and mx.nd.load read the files: no code in them is ever run.
"""
import logging
import os
from collections import namedtuple

from .core.base import PlaitError

__all__ = ["BatchEndParam", "load_checkpoint", "load_params", "save_checkpoint"]

# what MXNet's fit loops hand their batch-end callbacks
BatchEndParam = namedtuple("BatchEndParam", ["epoch", "nbatch", "eval_metric", "locals"])


def _params_file(prefix, epoch):
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a string (the checkpoint's path without its suffix), "
                        "got %s" % type(prefix).__name__)
    try:
        epoch = int(epoch)
    except (TypeError, ValueError):
        raise TypeError("epoch must be an integer, got %r" % (epoch,)) from None
    if epoch < 0:
        raise PlaitError("epoch must be >= 0, got %d" % epoch, arg="epoch")
    return "%s-%04d.params" % (prefix, epoch)


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Write `prefix-symbol.json` (unless symbol is None) and `prefix-%04d.params` with
    the arrays of arg_params and aux_params (dicts name -> NDArray) under 'arg:'/'aux:'
    keys, copied to the CPU.  Each file is written whole or not at all."""
    from . import ndarray as nd
    from .core.context import cpu
    fname = _params_file(prefix, epoch)
    data = {}
    for tag, params in (("arg", arg_params), ("aux", aux_params)):
        if params is None:
            continue
        if not hasattr(params, "items"):
            raise TypeError("save_checkpoint: %s_params must be a dict name -> NDArray, "
                            "got %s" % (tag, type(params).__name__))
        for name, value in params.items():
            if not isinstance(value, nd.NDArray):
                raise TypeError("save_checkpoint: %s_params[%r] must be an NDArray, got %s"
                                % (tag, name, type(value).__name__))
            data["%s:%s" % (tag, name)] = value.as_in_context(cpu())
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
    nd.save(fname, data)
    logging.info('Saved checkpoint to "%s"', fname)


def load_params(prefix, epoch):
    """(arg_params, aux_params) from `prefix-%04d.params` written by save_checkpoint,
    Module.save_checkpoint or HybridBlock.export (here or in MXNet)."""
    from . import ndarray as nd
    fname = _params_file(prefix, epoch)
    if not os.path.isfile(fname):
        raise PlaitError("load_params: no such file '%s' (prefix %r, epoch %d)"
                         % (fname, prefix, int(epoch)), arg="prefix")
    saved = nd.load(fname)
    arg_params, aux_params = {}, {}
    if not saved:
        logging.warning("Params file '%s' is empty", fname)
        return arg_params, aux_params
    if not isinstance(saved, dict):
        raise PlaitError("load_params: '%s' holds a list of %d arrays without names; a "
                         "checkpoint holds a dict with 'arg:'/'aux:' keys" % (fname, len(saved)),
                         arg="prefix")
    for key, value in saved.items():
        tag, sep, name = key.partition(":")
        if not sep or tag not in ("arg", "aux"):
            raise PlaitError(
                "load_params: key '%s' in '%s' has no 'arg:' or 'aux:' prefix; this looks like "
                "a file of save_parameters, which net.load_parameters(...) reads" % (key, fname),
                arg="prefix")
        (arg_params if tag == "arg" else aux_params)[name] = value
    return arg_params, aux_params


def load_checkpoint(prefix, epoch):
    """(symbol, arg_params, aux_params) from `prefix-symbol.json` and
    `prefix-%04d.params`."""
    from .symbol import load
    sym_file = "%s-symbol.json" % prefix
    _params_file(prefix, epoch)
    if not os.path.isfile(sym_file):
        raise PlaitError("load_checkpoint: no such file '%s' (prefix %r)" % (sym_file, prefix),
                         arg="prefix")
    symbol = load(sym_file)
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params
