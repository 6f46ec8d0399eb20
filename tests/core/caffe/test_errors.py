"""Bad input: each gives one CaffeError (a PlaitError) naming the file, the layer and what was
expected -- and from the command line one 'error:' line with exit code 2, no traceback."""
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import caffe_util as cu  # noqa: E402

from plait.core.caffe import CaffeError, convert, schema, weights  # noqa: E402
from plait.core.caffe.netfile import atomic_write  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
GOOD = """name: "t"
input: "data"
input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1"
        inner_product_param { num_output: 2 } }
"""


def _files(tmp_path, text=GOOD):
    proto = cu.write(tmp_path, text)
    return proto, cu.make_model(tmp_path, proto)


def _write_model(path, layers):
    """layers: [(name, type, [arrays], declared shapes or None)] -> a caffemodel."""
    body = []
    for name, type_, arrays, shapes in layers:
        lp = schema.message("LayerParameter")
        lp.name, lp.type = name, type_
        payload = [lp.SerializeToString()]
        for i, a in enumerate(arrays):
            blob = schema.message("BlobProto")
            blob.shape.dim.extend(shapes[i] if shapes else a.shape)
            blob.data.extend(a.ravel().tolist())
            payload += weights._message(b"\x3a", [blob.SerializeToString()])
        body += weights._message(b"\xa2\x06", payload)
    atomic_write(path, body)


def _cli(*args):
    tool = os.path.join(ROOT, "tools", "caffe_converter.py")
    return subprocess.run([sys.executable, tool] + list(args), capture_output=True, text=True,
                          timeout=120)


def _assert_cli_fails(tmp_path, proto, model, *needles):
    run = _cli(proto, model, str(tmp_path / "out"))
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert "Traceback" not in run.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    assert not [f for f in os.listdir(str(tmp_path)) if f.startswith("out")]


def test_truncated_caffemodel(tmp_path):
    proto, model = _files(tmp_path)
    with open(model, "rb") as f:
        data = f.read()
    with open(model, "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(CaffeError, match="net.prototxt.caffemodel: not a valid binary "
                                         ".caffemodel .*truncated"):
        convert(proto, model)
    _assert_cli_fails(tmp_path, proto, model, model, "truncated")


def test_empty_caffemodel(tmp_path):
    proto, model = _files(tmp_path)
    open(model, "wb").close()
    with pytest.raises(CaffeError, match="caffemodel is empty"):
        convert(proto, model)


def test_prototxt_syntax_error(tmp_path):
    proto = cu.write(tmp_path, GOOD.replace("num_output: 2 }", "num_output: 2 "))
    with pytest.raises(CaffeError) as e:
        convert(proto, None)
    assert "net.prototxt:" in str(e.value) and "ip1" in str(e.value)
    _assert_cli_fails(tmp_path, proto, "missing.caffemodel", "net.prototxt:")


def test_unknown_field_names_layer_and_field(tmp_path):
    proto = cu.write(tmp_path, GOOD.replace("kernel_size: 3", "kernel_size: 3 kernal: 2"))
    with pytest.raises(CaffeError) as e:
        convert(proto, None)
    msg = str(e.value)
    assert "net.prototxt:5" in msg and "'conv1'" in msg and "kernal" in msg


def test_blob_with_wrong_element_count(tmp_path):
    proto = cu.write(tmp_path, GOOD)
    model = str(tmp_path / "bad.caffemodel")
    _write_model(model, [("conv1", "Convolution", [np.zeros(100, np.float32),
                                                   np.zeros(4, np.float32)],
                          [(4, 3, 3, 3), (4,)])])
    with pytest.raises(CaffeError) as e:
        convert(proto, model)
    msg = str(e.value)
    assert "bad.caffemodel" in msg and "'conv1'" in msg and "blob 0" in msg
    assert "(4, 3, 3, 3)" in msg and "108" in msg and "100" in msg
    _assert_cli_fails(tmp_path, proto, model, "conv1", "(4, 3, 3, 3)")


def test_blob_with_wrong_shape(tmp_path):
    proto = cu.write(tmp_path, GOOD)
    model = str(tmp_path / "bad.caffemodel")
    _write_model(model, [("conv1", "Convolution", [np.zeros((4, 3, 2, 2), np.float32),
                                                   np.zeros(4, np.float32)], None)])
    with pytest.raises(CaffeError) as e:
        convert(proto, model)
    msg = str(e.value)
    assert "'conv1'" in msg and "(4, 3, 2, 2)" in msg and "(4, 3, 3, 3)" in msg


def test_missing_layer_blobs(tmp_path):
    proto = cu.write(tmp_path, GOOD)
    model = str(tmp_path / "partial.caffemodel")
    _write_model(model, [("conv1", "Convolution", [np.zeros((4, 3, 3, 3), np.float32),
                                                   np.zeros(4, np.float32)], None)])
    with pytest.raises(CaffeError, match="partial.caffemodel: layer 'ip1' .*no blobs"):
        convert(proto, model)


def test_unknown_layer_type(tmp_path):
    proto = cu.write(tmp_path, GOOD + 'layer { name: "odd" type: "Frobnicate" bottom: "ip1" '
                                      'top: "odd" }\n')
    model = cu.make_model(tmp_path, cu.write(tmp_path, GOOD, "good.prototxt"))
    with pytest.raises(CaffeError) as e:
        convert(proto, model)
    msg = str(e.value)
    assert "net.prototxt: layer 'odd' (type Frobnicate)" in msg and "Convolution" in msg
    _assert_cli_fails(tmp_path, proto, model, "odd", "Frobnicate")


@pytest.mark.parametrize("body,needle", [
    ('layer { name: "x" type: "ReLU" bottom: "nope" top: "x" }', "bottom 'nope'"),
    ('layer { name: "x" type: "Pooling" bottom: "data" top: "x" pooling_param '
     '{ pool: STOCHASTIC kernel_size: 2 } }', "STOCHASTIC"),
    ('layer { name: "x" type: "Convolution" bottom: "data" top: "x" convolution_param '
     '{ num_output: 4 group: 2 kernel_size: 1 } }', "divisible by group"),
    ('layer { name: "x" type: "Eltwise" bottom: "data" bottom: "data" top: "x" eltwise_param '
     '{ operation: PROD coeff: 1 coeff: 2 } }', "coeff needs operation SUM"),
    ('layer { name: "x" type: "Reshape" bottom: "data" top: "x" reshape_param '
     '{ shape { dim: 5 dim: -1 } } }', "cannot reshape"),
    ('layer { name: "x" type: "Pooling" bottom: "data" top: "x" pooling_param '
     '{ kernel_size: 2 pad_h: 1 } }', "pad_h and pad_w"),
])
def test_bad_layer_options(tmp_path, body, needle):
    text = 'input: "data"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n' + body
    proto = cu.write(tmp_path, text)
    with pytest.raises(CaffeError) as e:
        convert(proto, None)
    assert "layer 'x'" in str(e.value) and needle in str(e.value)


def test_cli_bad_arguments(tmp_path):
    run = _cli("a.prototxt", "b.caffemodel", "out", "--input-shape", "1,abc")
    assert run.returncode == 2 and "input-shape" in run.stderr


def test_outputs_option_stays_strict_on_needed_layers(tmp_path):
    extra = ('layer { name: "odd" type: "Frobnicate" bottom: "ip1" top: "odd" '
             'frob_param { a: 1 } }\n')
    proto = cu.write(tmp_path, GOOD + extra)
    with pytest.raises(CaffeError, match="'odd' .*frob_param"):
        convert(proto, None)
    assert [n for n, _ in convert(proto, None, outputs=["ip1"]).outputs] == ["ip1"]
    typo = cu.write(tmp_path, GOOD.replace("kernel_size: 3", "kernal_size: 3") + extra,
                    "t.prototxt")
    with pytest.raises(CaffeError, match="'conv1' .*kernal_size"):
        convert(typo, None, outputs=["ip1"])
    with pytest.raises(CaffeError, match="requested output blob.*nope"):
        convert(proto, None, outputs=["nope"])
