"""mx.onnx: ONNX export and import.

The `onnx` package is an optional dependency, so nothing here is imported with plait itself:
`mx.onnx.export_model` and friends load their module at first use (PEP 562 module __getattr__).
Per-op translation rules live on the registry's OpDefs (`onnx_export`, `onnx_import`).
"""
import importlib

# public name -> submodule of plait.core.onnx that defines it
_LAZY = {
    "export_model": "export",
    "export_block": "export",
    "import_model": "importer",
    "import_to_gluon": "importer",
    "get_model_metadata": "importer",
    "run_model": "importer",
}


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError("module 'plait.onnx' has no attribute %r" % name)
    try:
        module = importlib.import_module("." + mod, __name__)
    except ImportError as e:
        if getattr(e, "name", None) in ("onnx", "onnxruntime"):
            raise ImportError("mx.onnx.%s needs the 'onnx' package: pip install 'plait[onnx]'" % name) from e
        raise
    return getattr(module, name)


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
