"""mx.model checkpoints: load_checkpoint reads the -symbol.json/.params pairs real MXNet
1.9.1 wrote (tests/fixtures/symbol, tools/make_symbol_fixtures.py) and reproduces
MXNet's outputs; save_checkpoint writes the same keys MXNet's files hold; bad files and
arguments get errors naming the file."""
import os
import shutil

import numpy as np
import pytest

import plait as mx

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "symbol")
NETS = ["mlp", "lenet", "resnet18thin", "convbn-legacy"]


def _forward(sym, arg, aux, net):
    io = np.load(os.path.join(FIX, net + "-io.npz"), allow_pickle=False)
    inputs = {k[3:]: mx.nd.array(io[k]) for k in io.files if k.startswith("in:")}
    exe = sym.simple_bind(mx.cpu(), grad_req="null", **{k: v.shape for k, v in inputs.items()})
    exe.copy_params_from(arg, aux)
    outs = exe.forward(is_train=False, **inputs)
    return outs, io


@pytest.mark.parametrize("net", NETS)
def test_load_checkpoint_reproduces_mxnet_outputs(net):
    sym, arg, aux = mx.model.load_checkpoint(os.path.join(FIX, net), 0)
    assert isinstance(sym, mx.sym.Symbol)
    assert set(aux) == set(sym.list_auxiliary_states())
    assert set(arg) <= set(sym.list_arguments())
    outs, io = _forward(sym, arg, aux, net)
    for i, o in enumerate(outs):
        np.testing.assert_allclose(o.asnumpy(), io["out:%d" % i], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("net", ["lenet", "convbn-legacy"])
def test_save_checkpoint_round_trip_keeps_mxnet_keys(net, tmp_path):
    sym, arg, aux = mx.model.load_checkpoint(os.path.join(FIX, net), 0)
    prefix = str(tmp_path / "copy")
    mx.model.save_checkpoint(prefix, 7, sym, arg, aux)
    assert sorted(os.listdir(tmp_path)) == ["copy-0007.params", "copy-symbol.json"]
    mine = mx.nd.load(prefix + "-0007.params")
    theirs = mx.nd.load(os.path.join(FIX, net + "-0000.params"))
    assert sorted(mine) == sorted(theirs)  # 'arg:'/'aux:' keys, as MXNet wrote them
    for k in theirs:
        np.testing.assert_array_equal(mine[k].asnumpy(), theirs[k].asnumpy(), err_msg=k)
    sym2, arg2, aux2 = mx.model.load_checkpoint(prefix, 7)
    assert sym2.tojson() == sym.tojson()
    outs, io = _forward(sym2, arg2, aux2, net)
    np.testing.assert_allclose(outs[0].asnumpy(), io["out:0"], rtol=1e-5, atol=1e-5)


def test_save_checkpoint_without_symbol_and_load_params(tmp_path):
    prefix = str(tmp_path / "w")
    w = mx.nd.array(np.arange(6, dtype="float32").reshape(2, 3))
    mx.model.save_checkpoint(prefix, 12, None, {"fc_weight": w}, {"bn_moving_var": w + 1})
    assert os.listdir(tmp_path) == ["w-0012.params"]
    arg, aux = mx.model.load_params(prefix, 12)
    np.testing.assert_array_equal(arg["fc_weight"].asnumpy(), w.asnumpy())
    np.testing.assert_array_equal(aux["bn_moving_var"].asnumpy(), w.asnumpy() + 1)
    assert list(arg) == ["fc_weight"] and list(aux) == ["bn_moving_var"]


def test_symbolblock_takes_the_loaded_triple():
    # resnet18thin has BatchNorm: its aux states go through the same Parameters
    sym, arg, aux = mx.model.load_checkpoint(os.path.join(FIX, "resnet18thin"), 0)
    assert [n for n in sym.list_arguments() if n not in arg] == ["data"]
    net = mx.gluon.SymbolBlock(sym, mx.sym.var("data"))
    net.collect_params().load_dict(dict(arg, **aux), mx.cpu())
    io = np.load(os.path.join(FIX, "resnet18thin-io.npz"), allow_pickle=False)
    net.hybridize()
    got = net(mx.nd.array(io["in:data"]))
    np.testing.assert_allclose(got.asnumpy(), io["out:0"], rtol=1e-5, atol=1e-5)


def test_errors_name_the_file(tmp_path):
    prefix = str(tmp_path / "none")
    with pytest.raises(mx.MXNetError, match="none-symbol.json"):
        mx.model.load_checkpoint(prefix, 0)
    shutil.copy(os.path.join(FIX, "mlp-symbol.json"), prefix + "-symbol.json")
    with pytest.raises(mx.MXNetError, match="none-0003.params"):
        mx.model.load_checkpoint(prefix, 3)
    # a Gluon save_parameters file has no arg:/aux: prefixes
    net = mx.gluon.nn.Dense(2, in_units=3)
    net.initialize()
    net.save_parameters(prefix + "-0001.params")
    with pytest.raises(mx.MXNetError, match="no 'arg:' or 'aux:' prefix.*load_parameters"):
        mx.model.load_params(prefix, 1)
    mx.nd.save(prefix + "-0002.params", [mx.nd.ones((2,))])
    with pytest.raises(mx.MXNetError, match="list of 1 arrays"):
        mx.model.load_params(prefix, 2)
    with pytest.raises(mx.MXNetError, match="epoch must be >= 0"):
        mx.model.load_params(prefix, -1)
    with pytest.raises(TypeError, match="epoch must be an integer"):
        mx.model.load_params(prefix, "x")
    with pytest.raises(TypeError, match="arg_params\\['w'\\] must be an NDArray"):
        mx.model.save_checkpoint(prefix, 4, None, {"w": np.ones(2)}, {})
    assert not os.path.exists(prefix + "-0004.params")  # nothing half-written


def test_batch_end_param_fields():
    p = mx.model.BatchEndParam(epoch=1, nbatch=20, eval_metric=None, locals={})
    assert (p.epoch, p.nbatch) == (1, 20) and p._fields[2:] == ("eval_metric", "locals")
