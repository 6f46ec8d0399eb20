"""mx.context and mx.util: MXNet's import paths for devices and GPU queries."""
import os

import pytest

import plait as mx


def test_context_module_has_mxnet_names():
    assert mx.context.Context is mx.Context
    assert mx.context.cpu(1) == mx.Context("cpu", 1)
    assert mx.context.gpu(0).device_type == "gpu"
    assert mx.context.current_context() == mx.current_context()
    assert mx.context.num_gpus() == mx.num_gpus() == mx.util.get_gpu_count()
    with mx.context.cpu(2):
        assert mx.context.current_context() == mx.cpu(2)
    # the idiom of MXNet scripts
    ctx = mx.gpu() if mx.context.num_gpus() else mx.cpu()
    assert mx.nd.ones((2,), ctx=ctx).context == ctx


@pytest.mark.skipif(mx.context.num_gpus() > 0, reason="checks the no-GPU error")
def test_gpu_memory_without_a_gpu_names_the_device():
    with pytest.raises(mx.MXNetError, match=r"device_id.*no GPU 0 \(0 present"):
        mx.context.gpu_memory_info(0)
    with pytest.raises(mx.MXNetError, match="no GPU 3"):
        mx.util.get_gpu_memory(3)


def test_util_env_and_mode_queries():
    name = "PLAIT_TEST_UTIL_VAR"
    assert mx.util.getenv(name) is None
    mx.util.setenv(name, 5)
    try:
        assert mx.util.getenv(name) == "5" == os.environ[name]
    finally:
        mx.util.setenv(name, None)
    assert name not in os.environ
    assert mx.util.is_np_array() is False and mx.util.is_np_shape() is False
