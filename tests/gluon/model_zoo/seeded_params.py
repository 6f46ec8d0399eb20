"""Deterministic model-zoo parameters from a seeded NumPy generator.

Shared, unchanged, by tools/make_zoo_fixtures.py (run with real MXNet 1.9.1) and by the
tests (run with plait): both build the same model, give it these values, and compare
outputs.  Pure NumPy on purpose, so that both interpreters can import it.

Recipe (names are the parameter names with the model's prefix removed, visited in sorted
order, one draw each from np.random.default_rng(seed)):
  *weight                  normal * sqrt(2 / fan_in), fan_in = prod(shape[1:])  (He scale,
                           keeps activations of order 1 through deep relu stacks)
  *gamma, *running_var     uniform(0.5, 1.5)   (positive, so BatchNorm stays defined)
  everything else          normal * 0.1        (bias, beta, running_mean)
The input is default_rng(seed + 1).standard_normal(shape).
All values are float32.
"""
import numpy as np

SEED = 20261123


def param_values(shapes, seed=SEED):
    """{relative name: float32 array} for {relative name: shape}."""
    rng = np.random.default_rng(seed)
    values = {}
    for name in sorted(shapes):
        shape = tuple(int(s) for s in shapes[name])
        if name.endswith("weight"):
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            v = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif name.endswith(("gamma", "running_var")):
            v = rng.uniform(0.5, 1.5, shape)
        else:
            v = rng.standard_normal(shape) * 0.1
        values[name] = v.astype(np.float32)
    return values


def input_value(shape, seed=SEED):
    """The seeded float32 input of the given shape."""
    return np.random.default_rng(seed + 1).standard_normal(tuple(shape)).astype(np.float32)


def set_seeded_params(net, nd_array, seed=SEED):
    """Give every parameter of the (already shape-inferred) `net` its seeded value;
    nd_array builds the framework's NDArray from a NumPy array."""
    params = net.collect_params()
    prefix = net.prefix
    shapes = {name[len(prefix):]: p.shape for name, p in params.items()}
    values = param_values(shapes, seed)
    for name, p in params.items():
        p.set_data(nd_array(values[name[len(prefix):]]))
