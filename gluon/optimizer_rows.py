"""Lazy row updates for weights whose gradient MXNet keeps row-sparse.

An Embedding(sparse_grad=True) weight has grad_stype 'row_sparse'.  In MXNet its gradient
holds only the rows the batch looked up, and SGD and Adam with lazy_update=True (their
default) update just those rows: weight decay, momentum and Adam's moments leave every
other row alone.  plait keeps the gradient dense, so the Updater recovers the rows (those
with a nonzero gradient; a looked-up row whose gradient is exactly zero is skipped, where
MXNet would still decay it), gathers weight, gradient and state rows, runs the optimizer's
ordinary update on them and writes them back.  Other optimizers update every row, as
MXNet's do after converting the gradient to dense storage."""
import numpy as np

from .. import ndarray as nd
from ..ndarray import NDArray
from .optimizer_base import map_state


def lazy_rows(optimizer, index):
    """True when `index`'s weight gets MXNet's lazy row update under `optimizer`."""
    if not (getattr(optimizer, "SPARSE_LAZY", False) and getattr(optimizer, "lazy_update",
                                                                    False)):
        return False
    param = optimizer.param_dict.get(index)
    return param is not None and getattr(param, "_grad_stype", "default") == "row_sparse"


def _put(state, rows_state, rows):
    if isinstance(state, NDArray):
        state[rows] = rows_state
    elif isinstance(state, (tuple, list)):
        for s, r in zip(state, rows_state):
            _put(s, r, rows)


def update_rows(optimizer, index, weight, grad, state):
    """optimizer.update_multi_precision restricted to the rows of grad that are nonzero."""
    g = grad.asnumpy()
    rows = np.flatnonzero(g.reshape(g.shape[0], -1).any(axis=1)) if g.ndim else np.arange(0)
    if g.ndim == 0 or rows.size == g.shape[0]:
        optimizer.update_multi_precision(index, weight, grad, state)
        return
    if rows.size == 0:  # MXNet updates an empty row set: only the step count moves
        optimizer._update_count(index)
        return
    picked = nd.array(rows, ctx=weight.context, dtype=np.int64)

    def take(a):
        return nd.take(a, picked, axis=0)

    w_rows, s_rows = take(weight), map_state(state, take)
    optimizer.update_multi_precision(index, w_rows, take(grad), s_rows)
    weight[rows] = w_rows
    _put(state, s_rows, rows)
