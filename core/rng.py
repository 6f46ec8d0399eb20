"""Random number state: one generator per array module (NumPy for CPU, CuPy per GPU),
reseeded by `mx.random.seed`.

Random ops declare `resources=('rng',)`; the invoke path then adds `VAR` to the vars the
op writes, so the engine runs random draws in push order and a seeded program draws the
same numbers every run, whatever the number of worker threads.
"""
import numpy as np

from . import engine

VAR = engine.new_var()
_gens = {}
_seed = [None]


def generator(xp):
    """The generator kernels draw from (np.random.Generator or its CuPy twin)."""
    key = xp.__name__ if xp is np else (xp.__name__, xp.cuda.Device().id)
    g = _gens.get(key)
    if g is None:
        g = _gens[key] = xp.random.default_rng(_seed[0])
    return g


def seed(seed_state, ctx="all"):
    """Reseed the generators (every device when ctx='all', as MXNet's mx.random.seed)."""
    if not isinstance(seed_state, (int, np.integer)):
        from .base import PlaitError
        raise PlaitError("seed must be an integer, got %r" % (seed_state,), arg="seed_state",
                         op="random.seed")
    engine.wait_write(VAR)
    _seed[0] = int(seed_state)
    _gens.clear()


def get_state():
    """The CPU generator's state as plain JSON-able data (checkpoints save it so that a
    resumed run draws the same numbers as an uninterrupted one)."""
    engine.wait_write(VAR)
    return {"seed": _seed[0], "numpy": generator(np).bit_generator.state}


def set_state(state):
    """Restore a state returned by get_state()."""
    engine.wait_write(VAR)
    _seed[0] = state.get("seed")
    _gens.clear()
    generator(np).bit_generator.state = state["numpy"]
