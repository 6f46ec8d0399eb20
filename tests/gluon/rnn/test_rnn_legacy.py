"""Legacy symbolic mx.rnn cells (root rnn.py) against the MXNet 1.9.1 fixtures, fused vs
unfused, weight packing, and BucketSentenceIter."""
import numpy as np
import pytest

import plait as mx

import rnn_fixtures as fx


def _bind_run(sym, args):
    ex = sym.bind(mx.cpu(), {k: mx.nd.array(v) for k, v in args.items()})
    return [o.asnumpy() for o in ex.forward()]


@pytest.mark.parametrize("name,make", [
    ("cell_lstm_NTC_merge", lambda: mx.rnn.LSTMCell(5, prefix="lstm0_")),
    ("cell_gru_TNC_merge", lambda: mx.rnn.GRUCell(5, prefix="gru0_")),
    ("cell_rnn_relu_NTC_merge", lambda: mx.rnn.RNNCell(5, activation="relu", prefix="rnn0_"))])
def test_cells_match_mxnet(name, make):
    meta, data = fx.load(name)
    cell = make()
    n_states = len(cell.state_info)
    begin = [mx.sym.var("s%d" % i) for i in range(n_states)]
    outs, states = cell.unroll(meta["T"], mx.sym.var("x"), begin_state=begin,
                               layout=meta["layout"], merge_outputs=True)
    args = {k[6:]: v for k, v in data.items() if k.startswith("param:")}
    args.update({k[3:]: v for k, v in data.items() if k.startswith("in:")})
    got = _bind_run(mx.sym.Group([outs] + states), args)
    np.testing.assert_allclose(got[0], data["out:0"], rtol=1e-5, atol=1e-6)


def test_fused_cell_matches_mxnet_op():
    meta, data = fx.load("op_lstm_l2_bi")
    cell = mx.rnn.FusedRNNCell(meta["state_size"], num_layers=2, mode="lstm",
                               bidirectional=True, get_next_state=True, prefix="lstm_")
    begin = [mx.sym.var("h0"), mx.sym.var("c0")]
    outs, states = cell.unroll(4, mx.sym.var("x"), begin_state=begin, layout="TNC",
                               merge_outputs=True)
    got = _bind_run(mx.sym.Group([outs] + states),
                    {"x": data["in:data"], "lstm_parameters": data["in:parameters"],
                     "h0": data["in:state"], "c0": data["in:state_cell"]})
    for k in range(3):
        np.testing.assert_allclose(got[k], data["out:%d" % k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_fused_equals_unfused(mode):
    cell = mx.rnn.FusedRNNCell(4, num_layers=2, mode=mode, bidirectional=True, prefix="f_")
    x = np.random.RandomState(0).uniform(-1, 1, (2, 3, 5)).astype(np.float32)
    outs, _ = cell.unroll(3, mx.sym.var("x"), layout="NTC", merge_outputs=True)
    _, shapes, _ = outs.infer_shape(x=x.shape)
    arg_shapes = dict(zip(outs.list_arguments(), outs.infer_shape(x=x.shape)[0]))
    w = np.random.RandomState(1).uniform(-0.5, 0.5, arg_shapes["f_parameters"]).astype(
        np.float32)
    fused = _bind_run(outs, {"x": x, "f_parameters": w})[0]
    stack = cell.unfuse()
    u_outs, _ = stack.unroll(3, mx.sym.var("x"), layout="NTC", merge_outputs=True)
    unpacked = cell.unpack_weights({"f_parameters": mx.nd.array(w)})
    packed = stack.pack_weights(unpacked)
    args = {k: v.asnumpy() for k, v in packed.items()}
    args["x"] = x
    np.testing.assert_allclose(_bind_run(u_outs, args)[0], fused, rtol=1e-5, atol=1e-6)
    # and the round trip through pack/unpack gives the vector back
    back = cell.pack_weights(stack.unpack_weights(packed))
    np.testing.assert_array_equal(back["f_parameters"].asnumpy(), w)


def test_default_begin_state_infers():
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.LSTMCell(3, prefix="a_"))
    stack.add(mx.rnn.DropoutCell(0.0))
    stack.add(mx.rnn.GRUCell(2, prefix="b_"))
    outs, states = stack.unroll(4, mx.sym.var("x"), layout="TNC", merge_outputs=True)
    _, shapes, _ = mx.sym.Group([outs] + states).infer_shape(x=(4, 6, 5))
    assert shapes == [(4, 6, 2), (6, 3), (6, 3), (6, 2)]
    assert stack.state_shape == [(0, 3), (0, 3), (0, 2)]


def test_bucket_sentence_iter():
    sents, vocab = mx.rnn.encode_sentences([["a", "b", "c"], ["b", "c"], ["c", "a", "b"],
                                            ["a", "a"], ["b", "a", "c", "c"]])
    assert len(vocab) == 4 and sents[0] == [0, 1, 2]
    it = mx.rnn.BucketSentenceIter(sents, 2, buckets=[2, 3], invalid_label=-1)
    batches = list(it)
    assert sorted(b.bucket_key for b in batches) == [2, 3]
    for b in batches:
        d, lab = b.data[0].asnumpy(), b.label[0].asnumpy()
        assert d.shape == (2, b.bucket_key)
        np.testing.assert_array_equal(lab[:, :-1], d[:, 1:])
        assert (lab[:, -1] == -1).all()
    it_tn = mx.rnn.BucketSentenceIter(sents, 2, buckets=[2, 3], layout="TN")
    assert it_tn.provide_data[0].shape == (3, 2)
    with pytest.raises(ValueError, match="layout"):
        mx.rnn.BucketSentenceIter(sents, 2, layout="XY")
