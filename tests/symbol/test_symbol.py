"""mx.sym / Symbol against MXNet 1.9.1's behaviour.

The expected names and shapes below were printed by real MXNet 1.9.1 running the same
builders (`_nets(mx)`); test_matches_mxnet_anchor re-runs them on the anchor install
(when present) and also compares tojson() byte for byte.
"""
import json
import os
import subprocess
import warnings

import numpy as np
import pytest

import plait as mx

ANCHOR = "/tmp/plait-anchors/mxnet/bin/python"


def _nets(mx):
    def mlp():
        data = mx.sym.Variable('data')
        fc1 = mx.sym.FullyConnected(data, name='fc1', num_hidden=128)
        act1 = mx.sym.Activation(fc1, name='relu1', act_type='relu')
        fc2 = mx.sym.FullyConnected(act1, num_hidden=64)
        act2 = mx.sym.Activation(fc2, act_type='relu')
        fc3 = mx.sym.FullyConnected(act2, num_hidden=10, no_bias=True)
        return mx.sym.SoftmaxOutput(fc3, name='softmax'), dict(data=(32, 784))

    def lenet():
        data = mx.sym.var('data')
        c1 = mx.sym.Convolution(data, kernel=(5, 5), num_filter=20)
        t1 = mx.sym.Activation(c1, act_type='tanh')
        p1 = mx.sym.Pooling(t1, pool_type='max', kernel=(2, 2), stride=(2, 2))
        c2 = mx.sym.Convolution(p1, kernel=(5, 5), num_filter=50)
        t2 = mx.sym.Activation(c2, act_type='tanh')
        p2 = mx.sym.Pooling(t2, pool_type='max', kernel=(2, 2), stride=(2, 2))
        fc1 = mx.sym.FullyConnected(mx.sym.flatten(p2), num_hidden=500)
        fc2 = mx.sym.FullyConnected(mx.sym.Activation(fc1, act_type='tanh'), num_hidden=10)
        return mx.sym.SoftmaxOutput(fc2, name='softmax'), dict(data=(8, 1, 28, 28))

    def resblock():
        data = mx.sym.var('data')
        bn1 = mx.sym.BatchNorm(data, fix_gamma=False, eps=2e-5, name='bn1')
        a1 = mx.sym.Activation(bn1, act_type='relu', name='relu1')
        c1 = mx.sym.Convolution(a1, num_filter=16, kernel=(3, 3), stride=(1, 1), pad=(1, 1),
                                no_bias=True, name='conv1')
        bn2 = mx.sym.BatchNorm(c1, fix_gamma=False, eps=2e-5)
        a2 = mx.sym.Activation(bn2, act_type='relu')
        c2 = mx.sym.Convolution(a2, num_filter=16, kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                                no_bias=True)
        sc = mx.sym.Convolution(a1, num_filter=16, kernel=(1, 1), stride=(2, 2), no_bias=True,
                                name='sc')
        pool = mx.sym.Pooling(c2 + sc, global_pool=True, kernel=(7, 7), pool_type='avg')
        fc = mx.sym.FullyConnected(mx.sym.Flatten(pool), num_hidden=10)
        return mx.sym.SoftmaxOutput(fc, name='softmax'), dict(data=(4, 3, 32, 32))

    def misc():
        x = mx.sym.var('x', shape=(2, 3), lr_mult=2.0, dtype='float16', init='zeros')
        with mx.AttrScope(ctx_group='dev1', __foo__='bar'):
            y = mx.sym.FullyConnected(x, num_hidden=3, lr_mult=2, name='fcx')
        parts = [y, mx.sym.split(x, num_outputs=2, axis=1, name='sp')[1], x * 2, 1 - x,
                 abs(x), x == 1, x ** 2, 2 ** x, -x, x / 3, mx.sym.zeros((2, 3))]
        return mx.sym.Group(parts), {}
    return dict(mlp=mlp, lenet=lenet, resblock=resblock, misc=misc)


def _summary(mx, which):
    with mx.name.NameManager():
        sym, shapes = _nets(mx)[which]()
    out = dict(args=sym.list_arguments(), aux=sym.list_auxiliary_states(),
               outs=sym.list_outputs(), internals=sym.get_internals().list_outputs(),
               json=sym.tojson())
    if shapes:
        a, o, x = sym.infer_shape(**shapes)
        out.update(arg_shapes=[list(s) for s in a], out_shapes=[list(s) for s in o],
                   aux_shapes=[list(s) for s in x])
    return out


EXPECTED = {
    "mlp": dict(
        args=["data", "fc1_weight", "fc1_bias", "fullyconnected0_weight", "fullyconnected0_bias",
              "fullyconnected1_weight", "softmax_label"],
        aux=[], outs=["softmax_output"],
        internals=["data", "fc1_weight", "fc1_bias", "fc1_output", "relu1_output",
                   "fullyconnected0_weight", "fullyconnected0_bias", "fullyconnected0_output",
                   "activation0_output", "fullyconnected1_weight", "fullyconnected1_output",
                   "softmax_label", "softmax_output"],
        arg_shapes=[[32, 784], [128, 784], [128], [64, 128], [64], [10, 64], [32]],
        out_shapes=[[32, 10]], aux_shapes=[]),
    "lenet": dict(
        args=["data", "convolution0_weight", "convolution0_bias", "convolution1_weight",
              "convolution1_bias", "fullyconnected0_weight", "fullyconnected0_bias",
              "fullyconnected1_weight", "fullyconnected1_bias", "softmax_label"],
        aux=[], outs=["softmax_output"],
        internals=["data", "convolution0_weight", "convolution0_bias", "convolution0_output",
                   "activation0_output", "pooling0_output", "convolution1_weight",
                   "convolution1_bias", "convolution1_output", "activation1_output",
                   "pooling1_output", "flatten0_output", "fullyconnected0_weight",
                   "fullyconnected0_bias", "fullyconnected0_output", "activation2_output",
                   "fullyconnected1_weight", "fullyconnected1_bias", "fullyconnected1_output",
                   "softmax_label", "softmax_output"],
        arg_shapes=[[8, 1, 28, 28], [20, 1, 5, 5], [20], [50, 20, 5, 5], [50], [500, 800],
                    [500], [10, 500], [10], [8]],
        out_shapes=[[8, 10]], aux_shapes=[]),
    "resblock": dict(
        args=["data", "bn1_gamma", "bn1_beta", "conv1_weight", "batchnorm0_gamma",
              "batchnorm0_beta", "convolution0_weight", "sc_weight", "fullyconnected0_weight",
              "fullyconnected0_bias", "softmax_label"],
        aux=["bn1_moving_mean", "bn1_moving_var", "batchnorm0_moving_mean",
             "batchnorm0_moving_var"],
        outs=["softmax_output"],
        internals=["data", "bn1_gamma", "bn1_beta", "bn1_moving_mean", "bn1_moving_var",
                   "bn1_output", "relu1_output", "conv1_weight", "conv1_output",
                   "batchnorm0_gamma", "batchnorm0_beta", "batchnorm0_moving_mean",
                   "batchnorm0_moving_var", "batchnorm0_output", "activation0_output",
                   "convolution0_weight", "convolution0_output", "sc_weight", "sc_output",
                   "_plus0_output", "pooling0_output", "flatten0_output",
                   "fullyconnected0_weight", "fullyconnected0_bias", "fullyconnected0_output",
                   "softmax_label", "softmax_output"],
        arg_shapes=[[4, 3, 32, 32], [3], [3], [16, 3, 3, 3], [16], [16], [16, 16, 3, 3],
                    [16, 3, 1, 1], [10, 16], [10], [4]],
        out_shapes=[[4, 10]], aux_shapes=[[3], [3], [16], [16]]),
}


@pytest.mark.parametrize("which", sorted(EXPECTED))
def test_names_and_shapes_as_mxnet(which):
    got = _summary(mx, which)
    for key, want in EXPECTED[which].items():
        assert got[key] == want, key


_ANCHOR_SCRIPT = """
import json, sys, warnings
warnings.simplefilter('ignore')
import mxnet as mx
src = open(sys.argv[1]).read()
ns = {}
exec(src[src.index('def _nets'):src.index('EXPECTED = {')], ns)
print(json.dumps({k: ns['_summary'](mx, k) for k in ('mlp', 'lenet', 'resblock', 'misc')}))
"""


@pytest.mark.skipif(not os.path.exists(ANCHOR), reason="MXNet 1.9.1 anchor not installed")
def test_matches_mxnet_anchor():
    res = subprocess.run([ANCHOR, "-c", _ANCHOR_SCRIPT, __file__], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    want = json.loads(res.stdout.strip().splitlines()[-1])
    for which, w in want.items():
        got = _summary(mx, which)
        assert got == w, which  # names, shapes and the JSON text, byte for byte


# -- variables and attributes ----------------------------------------------------------------------
def test_variable_attributes():
    v = mx.sym.var('v', shape=(4, 5), dtype='float16', lr_mult=2, init='zeros', wd_mult=0.5,
                   stype='csr', __x__=3)
    assert v.list_attr() == {'__x__': '3', '__storage_type__': '2', '__init__': 'zeros',
                             '__dtype__': '2', '__wd_mult__': '0.5', 'wd_mult': '0.5',
                             '__lr_mult__': '2', 'lr_mult': '2', '__shape__': '(4, 5)'}
    assert v.attr('lr_mult') is None and v.attr('__lr_mult__') == '2'
    assert v.infer_shape() == ([(4, 5)], [(4, 5)], [])
    assert v.infer_type() == ([np.float16], [np.float16], [])
    with pytest.raises(ValueError, match="double underscores"):
        mx.sym.var('w', foo=1)
    with pytest.raises(TypeError):
        mx.sym.var(3)
    assert mx.sym.Variable is mx.sym.var


def test_attr_scope_and_set_attr():
    x = mx.sym.var('x')
    with mx.AttrScope(ctx_group='dev1', __foo__='bar'):
        fc = mx.sym.FullyConnected(x, num_hidden=3, lr_mult=2, name='fc')
        v = mx.sym.var('v')
    attrs = {'num_hidden': '3', '__foo__': 'bar', '__ctx_group__': 'dev1', 'ctx_group': 'dev1',
             '__lr_mult__': '2', 'lr_mult': '2'}
    assert fc.list_attr() == attrs
    assert v.list_attr() == {'__foo__': 'bar', '__ctx_group__': 'dev1', 'ctx_group': 'dev1'}
    # automatically created inputs carry the node's attributes (MXNet's Compose)
    assert fc.attr_dict() == {'fc_weight': attrs, 'fc_bias': attrs, 'fc': attrs}
    fc._set_attr(__mood__='angry')
    assert fc.attr('__mood__') == 'angry'
    with pytest.raises(ValueError):
        fc._set_attr(foo=3)
    with pytest.raises(mx.MXNetError, match="weight_lr_mult"):
        mx.sym.FullyConnected(x, num_hidden=3, weight_lr_mult=3)
    with pytest.raises(ValueError):
        mx.AttrScope(a=1)


def test_name_manager_and_prefix():
    data = mx.sym.var('data')
    with mx.name.NameManager():
        a = mx.sym.FullyConnected(data, num_hidden=2)
        b = mx.sym.FullyConnected(data, num_hidden=2)
        c = mx.sym.Activation(a, act_type='relu')
        s = mx.sym.split(data, num_outputs=2)
        r = mx.sym.reshape(data, shape=(2, -1))
    assert [a.name, b.name, c.name, s.name, r.name] == [
        'fullyconnected0', 'fullyconnected1', 'activation0', 'split0', 'reshape0']
    with mx.name.Prefix('mynet_'):
        net = mx.sym.FullyConnected(data, num_hidden=10, name='fc1')
    assert net.list_arguments() == ['data', 'mynet_fc1_weight', 'mynet_fc1_bias']


# -- op functions --------------------------------------------------------------------------------
def test_inputs_positional_named_optional():
    x, w = mx.sym.var('x'), mx.sym.var('w')
    assert mx.sym.FullyConnected(x, w, num_hidden=3, name='f').list_arguments() == \
        ['x', 'w', 'f_bias']
    assert mx.sym.FullyConnected(weight=w, data=x, num_hidden=3, no_bias=True,
                                 name='g').list_arguments() == ['x', 'w']
    assert mx.sym.FullyConnected(num_hidden=3, name='h').list_arguments() == \
        ['h_data', 'h_weight', 'h_bias']
    assert mx.sym.LeakyReLU(x, act_type='prelu', name='p').list_arguments() == ['x', 'p_gamma']
    assert mx.sym.LeakyReLU(x, name='q').list_arguments() == ['x']
    assert mx.sym.Concat(x, w, dim=0).list_attr() == {'num_args': '2', 'dim': '0'}
    with pytest.raises(mx.MXNetError, match="bias not found"):
        mx.sym.FullyConnected(x, num_hidden=3, no_bias=True, bias=w)
    with pytest.raises(mx.MXNetError, match="foo"):
        mx.sym.FullyConnected(x, num_hidden=3, foo=3)
    with pytest.raises(mx.MXNetError, match="num_hidden"):
        mx.sym.FullyConnected(x)
    with pytest.raises(mx.MXNetError, match="single value"):
        mx.sym.relu(mx.sym.split(x, num_outputs=3))
    with pytest.raises(TypeError):
        mx.sym.relu(mx.nd.ones((2,)))


def test_signatures_and_sources():
    import inspect
    sig = inspect.signature(mx.sym.FullyConnected)
    assert list(sig.parameters)[:6] == ['data', 'weight', 'bias', 'num_hidden', 'no_bias',
                                        'flatten']
    assert 'name' in sig.parameters and 'attr' in sig.parameters
    assert mx.sym.zeros((2, 3)).list_attr() == {'shape': '(2, 3)', 'dtype': 'float32'}
    assert mx.sym.full((2,), 3, dtype='int32').list_attr() == {
        'dtype': 'int32', 'value': '3.0', 'shape': '(2,)'}
    assert mx.sym.arange(1, 5, 2).list_attr() == {
        'infer_range': 'False', 'repeat': '1', 'step': '2', 'dtype': 'float32', 'stop': '5',
        'start': '1'}
    assert mx.sym.Cast(mx.sym.var('x'), dtype='float16').list_attr() == {'dtype': 'float16'}


def test_operators_names():
    a, b = mx.sym.var('a'), mx.sym.var('b')
    with mx.name.NameManager():
        syms = [a + b, a - 1, 1 - a, -a, a * b, a / 2, 2 / a, a % b, a ** 2, 2 ** a, a ** b,
                a == b, a == 1, a < 1, abs(a), a > b, 1 + a, 2 * a]
    assert [s.name for s in syms] == [
        '_plus0', '_minusscalar0', '_rminusscalar0', '_mulscalar0', '_mul0', '_divscalar0',
        '_rdivscalar0', '_mod0', '_powerscalar0', '_rpower_scalar0', '_power0', '_equal0',
        '_equal_scalar0', '_lesser_scalar0', 'abs0', '_greater0', '_plusscalar0',
        '_mulscalar1']
    assert syms[0]._entries[0].node.op.name == 'elemwise_add'
    with pytest.raises(NotImplementedError):
        bool(a)
    with pytest.raises(TypeError):
        a + "x"
    with pytest.raises(NotImplementedError):
        a += b


def test_getitem_group_children_internals():
    x = mx.sym.var('x')
    s = mx.sym.split(x, num_outputs=3, name='sp')
    assert len(s) == 3 and s.name == 'sp' and repr(s) == '<Symbol sp>'
    assert s[1].list_outputs() == ['sp_output1']
    assert s['sp_output2'].list_outputs() == ['sp_output2']
    assert s[-1].list_outputs() == ['sp_output2']
    assert s[0:2].list_outputs() == ['sp_output0', 'sp_output1']
    assert [t.list_outputs()[0] for t in s] == ['sp_output0', 'sp_output1', 'sp_output2']
    with pytest.raises(IndexError):
        s[3]
    with pytest.raises(ValueError):
        s['nope']
    fc = mx.sym.FullyConnected(x, num_hidden=3, name='fc')
    g = mx.sym.Group([fc, x])
    assert g.name is None and repr(g) == '<Symbol group [fc, x]>'
    assert g.list_outputs() == ['fc_output', 'x'] and g.attr('num_hidden') is None
    assert fc.get_children().list_outputs() == ['x', 'fc_weight', 'fc_bias']
    assert x.get_children() is None
    assert fc.get_internals().list_outputs() == ['x', 'fc_weight', 'fc_bias', 'fc_output']
    assert fc.get_internals()['fc_output'].list_outputs() == ['fc_output']
    with pytest.raises(TypeError):
        mx.sym.Group([fc, 3])


def test_composition():
    data = mx.sym.var('data')
    net1 = mx.sym.FullyConnected(data=data, name='fc1', num_hidden=10)
    net2 = mx.sym.FullyConnected(name='fc3', num_hidden=10)
    composed = net2(fc3_data=net1, name='composed')
    assert composed.name == 'composed' and net2.name == 'fc3'
    assert composed.list_arguments() == ['data', 'fc1_weight', 'fc1_bias', 'fc3_weight',
                                         'fc3_bias']
    assert net2.list_arguments() == ['fc3_data', 'fc3_weight', 'fc3_bias']
    twice = net1(data=net1)  # copies: the original is not changed
    assert twice.list_arguments() == ['data', 'fc1_weight', 'fc1_bias', 'fc1_weight',
                                      'fc1_bias']
    assert net1.list_arguments() == ['data', 'fc1_weight', 'fc1_bias']
    with pytest.raises(mx.MXNetError, match="foo not found"):
        net1(foo=data)
    with pytest.raises(mx.MXNetError, match="kwargs"):
        net1(data)
    with pytest.raises(TypeError):
        net1(data=3)


def test_copy_and_pickle():
    import copy
    import pickle
    fc = mx.sym.FullyConnected(mx.sym.var('x'), num_hidden=3, name='fc')
    c = copy.deepcopy(fc)
    c._set_attr(__a__='1')
    assert fc.attr('__a__') is None and c.tojson() != fc.tojson()
    assert pickle.loads(pickle.dumps(fc)).tojson() == fc.tojson()


# -- inference -----------------------------------------------------------------------------------
def test_infer_shape_semantics():
    fc = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=10, name='fc1')
    assert fc.infer_shape(data=(2, 5)) == ([(2, 5), (10, 5), (10,)], [(2, 10)], [])
    assert fc.infer_shape((2, 5)) == ([(2, 5), (10, 5), (10,)], [(2, 10)], [])
    assert fc.infer_shape_partial() == ([(), (), ()], [()], [])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert fc.infer_shape() == (None, None, None)
    assert "data: ()" in str(w[-1].message)
    with pytest.raises(mx.MXNetError, match=r"fc1_weight.*\(3, 5\).*\(10, 5\)"):
        fc.infer_shape(data=(2, 5), fc1_weight=(3, 5))
    with pytest.raises(mx.MXNetError, match="foo not found"):
        fc.infer_shape(data=(2, 5), foo=(3,))
    with pytest.raises(TypeError):
        fc.infer_shape(data=[2, 5])
    with pytest.raises(ValueError):
        fc.infer_shape((2, 5), fc1_bias=(10,))


def test_infer_type_semantics():
    fc = mx.sym.FullyConnected(mx.sym.var('a'), num_hidden=4, name='fc')
    assert fc.infer_type(fc_weight='float64') == ([np.float64] * 3, [np.float64], [])
    assert fc.infer_type_partial() == ([None, None, None], [None], [])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')
        assert fc.infer_type() == (None, None, None)
    emb = mx.sym.Embedding(mx.sym.var('d'), input_dim=10, output_dim=3, name='emb')
    assert emb.infer_type(d='int32') == ([np.int32, np.float32], [np.float32], [])
    a, b = mx.sym.var('a'), mx.sym.var('b')
    with pytest.raises(mx.MXNetError, match="float16"):
        (a + b).infer_type(a='float16', b='float32')


# -- files ---------------------------------------------------------------------------------------
def test_save_load_roundtrip(tmp_path):
    with mx.name.NameManager():
        sym, shapes = _nets(mx)['resblock']()
    path = str(tmp_path / "net-symbol.json")
    sym.save(path)
    back = mx.sym.load(path)
    assert back.tojson() == sym.tojson()
    assert mx.sym.load_json(sym.tojson()).list_arguments() == sym.list_arguments()
    assert back.infer_shape(**shapes) == sym.infer_shape(**shapes)


# -- binding -------------------------------------------------------------------------------------
def test_eval_bind_simple_bind():
    a, b = mx.sym.var('a'), mx.sym.var('b')
    out = (a * b + 1).eval(a=mx.nd.ones((2, 3)) * 2, b=mx.nd.ones((2, 3)) * 3)
    np.testing.assert_array_equal(out[0].asnumpy(), np.full((2, 3), 7, np.float32))
    fc = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=4, name='fc')
    ex = fc.simple_bind(mx.cpu(), data=(2, 3))
    assert sorted(ex.arg_dict) == sorted(ex.grad_dict) == ['data', 'fc_bias', 'fc_weight']
    assert ex.arg_dict['fc_weight'].shape == (4, 3)
    ex.arg_dict['data'][:] = 1
    ex.arg_dict['fc_weight'][:] = 0.5
    np.testing.assert_allclose(ex.forward(is_train=True)[0].asnumpy(), np.full((2, 4), 1.5))
    ex.backward(mx.nd.ones((2, 4)))
    np.testing.assert_allclose(ex.grad_dict['fc_weight'].asnumpy(), np.full((4, 3), 2.0))
    ex = fc.simple_bind(mx.cpu(), grad_req={'fc_weight': 'write'}, type_dict={'data': 'float64'},
                        data=(2, 3))
    assert sorted(ex.grad_dict) == ['fc_weight'] or ex.grad_dict.get('data') is None
    assert ex.arg_dict['fc_bias'].dtype == np.float64
    args = [mx.nd.ones((2, 3)), mx.nd.ones((4, 3)), mx.nd.zeros((4,))]
    np.testing.assert_allclose(fc.bind(mx.cpu(), args).forward()[0].asnumpy(),
                               np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match="fc_bias"):
        fc.bind(mx.cpu(), {'data': args[0], 'fc_weight': args[1]})
    with pytest.raises(ValueError):
        fc.bind(mx.cpu(), args[:2])
    with pytest.raises(mx.MXNetError, match="data"):
        fc.simple_bind(mx.cpu())


# Output names of multi-output ops as real MXNet 1.9.1 lists them (checked with its
# list_outputs()): scripts index get_internals() by these names.
@pytest.mark.parametrize("make,expected", [
    (lambda x: mx.sym.BatchNorm(x, output_mean_var=True, name="bn"),
     ["bn_output", "bn_mean", "bn_var"]),
    (lambda x: mx.sym.LayerNorm(x, output_mean_var=True, name="ln"),
     ["ln_output", "ln_mean", "ln_std"]),
    (lambda x: mx.sym.GroupNorm(x, output_mean_var=True, name="gn"),
     ["gn_output", "gn_mean", "gn_std"]),
    (lambda x: mx.sym.RNN(x, state_size=4, num_layers=1, mode="lstm", state_outputs=True,
                          name="r"), ["r_output", "r_state_output", "r_statecell_output"]),
    (lambda x: mx.sym.RNN(x, state_size=4, num_layers=1, mode="gru", state_outputs=True,
                          name="r"), ["r_output", "r_state_output"]),
    (lambda x: mx.sym.topk(x, ret_typ="both", name="t"), ["t_output0", "t_output1"]),
])
def test_multi_output_names_match_mxnet(make, expected):
    assert make(mx.sym.var("x")).list_outputs() == expected
