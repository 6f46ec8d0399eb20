"""The transforms that are HybridBlocks over registered image ops, as in MXNet 1.9:
Cast, ToTensor, Normalize, Resize and CropResize here (and the random flips and colour
jitters of transforms.py, on HybridRandomTransform) call F.cast / F.image.* in
hybrid_forward, so they hybridize, export and run inside hybridized networks;
HybridCompose chains them into one HybridBlock.

On host data they also keep plait's fast path: `_apply(numpy array)` runs the same op's
kernel directly on NumPy (no NDArray per step), which Compose uses to chain transforms
and DataLoader uses to transform a stacked batch at once (`batchable`).  Both paths run
one kernel, so they give identical values.
"""
import numpy as np

from ....core import autograd as _ag
from ....core.base import PlaitError, to_dtype
from ....core.ops import registry
from ....core.ops.image_ops import normalize_host, normalize_stats
from ....core.ops.image_resize import resize_host
from ....ndarray import NDArray
from ...block_hybrid import HybridBlock
from ...block_containers import HybridSequential

__all__ = ["HybridTransform", "HybridRandomTransform", "HybridCompose", "Cast", "ToTensor",
           "Normalize", "Resize", "CropResize"]


def plan_host_op(name, a, attrs, where=None):
    """[op, output shape, output dtype, None (a slot for the transform)] of registered op
    `name` on NumPy array `a` with parsed `attrs`, after the op's own checks (errors name
    the op, and the transform `where`)."""
    op = registry.get(name)
    try:
        op.check_dtypes([a.dtype])
        return [op, op.infer_shape(attrs, [a.shape])[0], op.infer_type(attrs, [a.dtype])[0],
                None]
    except PlaitError as e:
        e.op = e.op or name
        if where:
            e.op = "%s in %s" % (e.op, where)
        raise


def run_planned(plan, a, attrs):
    op, shape, dtype, _ = plan
    out = np.empty(shape, dtype)
    if op.forward is not None:
        op.forward(np, attrs, [a], [out])
    else:
        out[...] = op.compute(np, attrs, a)
    return out


def run_host_op(name, a, attrs, where=None):
    """Run registered op `name` on NumPy array `a` (see plan_host_op)."""
    return run_planned(plan_host_op(name, a, attrs, where), a, attrs)


def _without_graph(block):
    """A block's pickled state: without its cached graph (rebuilt at the next call), so
    hybridized transforms pickle like the others."""
    state = block.__dict__.copy()
    state["_cached_graph"], state["_cached_op"] = (), None
    return state


class HybridTransform(HybridBlock):
    """A parameter-free HybridBlock computed by one image op (`_op`, `_kwargs`); NumPy
    inputs are transformed on the host and returned as NumPy arrays."""

    _op = None
    batchable = False  # element-wise and deterministic: may run on a stacked batch

    def __init__(self, **kwargs):
        super().__init__()
        self._kwargs = kwargs
        self._attrs = registry.get(self._op).parse_attrs(kwargs) if self._op else None
        self._plans = {}  # (shape, dtype) -> checked output shape and dtype

    def __call__(self, x, *args):
        # the data-loading call (one host NDArray, not recorded, not hybridized, no hooks):
        # the kernel on the host array, without the engine round trip (same values)
        if (type(x) is NDArray and not args and not self._active and not _ag.is_recording()
                and not self._forward_hooks and not self._forward_pre_hooks
                and type(x._data) is np.ndarray):
            x.wait_to_read()
            return NDArray(self._apply(x._data))
        return super().__call__(x, *args)

    def forward(self, x, *args):
        if isinstance(x, np.ndarray):
            return self._apply(x)
        return super().forward(x, *args)

    def hybrid_forward(self, F, x):
        if self._op.startswith("_image_"):  # F.image.<name>: MXNet's node names (to_tensor0)
            return getattr(F.image, self._op[7:])(x, **self._kwargs)
        return getattr(F, self._op.lower())(x, **self._kwargs)

    def _apply(self, a):
        key = (a.shape, a.dtype)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 64:  # images of many sizes: keep the cache small
                self._plans.clear()
            plan = self._plans[key] = plan_host_op(self._op, a, self._attrs,
                                                   type(self).__name__)
        return self._run(plan, a)

    def _run(self, plan, a):
        return run_planned(plan, a, self._attrs)

    def __getstate__(self):
        return _without_graph(self)

    def __repr__(self):
        return type(self).__name__ + "()"


class HybridRandomTransform(HybridTransform):
    """A random transform.  Hybridized (or given Symbols) it runs its `_image_random_*` op,
    which draws from plait's generator (mx.random.seed); imperatively it runs `_apply` on
    the host, drawing from NumPy's global generator (np.random.seed) as plait's transforms
    always have.  Both draw from the same distributions.  An image left unchanged is
    returned as is."""

    def __call__(self, x, *args):
        if self._forward_hooks or self._forward_pre_hooks:
            return HybridBlock.__call__(self, x, *args)  # hooks, then forward
        return self.forward(x, *args)

    def forward(self, x, *args):
        if isinstance(x, np.ndarray) or (isinstance(x, NDArray) and not self._active):
            a = x
            if isinstance(x, NDArray):
                x.wait_to_read()
                a = x._data if isinstance(x._data, np.ndarray) else x._data.get()
            out = self._apply(a)
            if out is a:
                return x
            return NDArray(out) if isinstance(x, NDArray) else out
        return HybridBlock.forward(self, x, *args)


class HybridCompose(HybridSequential):
    """Chain hybrid transforms into one HybridBlock (hybridize() makes it one graph):
    HybridCompose([ToTensor(), Normalize(mean, std)])."""

    def __init__(self, transforms, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        for t in transforms:
            if not isinstance(t, HybridBlock):
                raise PlaitError("every transform must be a HybridBlock, got %s"
                                 % type(t).__name__, arg="transforms", op="HybridCompose")
            self.add(t)

    def forward(self, x, *args):
        if isinstance(x, np.ndarray):  # host data: the ops' kernels on NumPy, as Compose
            return self._apply(x)
        return super().forward(x, *args)

    def __getstate__(self):
        return _without_graph(self)

    @property
    def batchable(self):
        return all(getattr(b, "batchable", False) for b in self._children.values())

    def _apply(self, a):
        for block in self._children.values():
            a = block._apply(a)
        return a


class Cast(HybridTransform):
    """Cast to `dtype` (default float32)."""
    batchable = True
    _op = "Cast"

    def __init__(self, dtype="float32"):
        super().__init__(dtype=to_dtype(dtype).name)

    def _apply(self, a):
        return a.astype(self._attrs.dtype)


class ToTensor(HybridTransform):
    """HWC (or NHWC) values in [0, 255] -> CHW (NCHW) float32 in [0, 1]
    (F.image.to_tensor)."""
    batchable = True
    _op = "_image_to_tensor"


class Normalize(HybridTransform):
    """(x - mean[c]) / std[c] over the channels of a CHW (or NCHW) tensor; mean and std are
    scalars or one value per channel (F.image.normalize).  Integer tensors are cast to
    float32 first."""
    batchable = True
    _op = "_image_normalize"

    def __init__(self, mean=0.0, std=1.0):
        super().__init__(mean=mean, std=std)

    def forward(self, x, *args):
        if isinstance(x, NDArray) and np.dtype(x.dtype).kind != "f":
            x = x.astype("float32")
        return super().forward(x, *args)

    def _apply(self, a):
        if a.dtype.kind != "f":
            a = a.astype(np.float32)
        return super()._apply(a)

    def _run(self, plan, a):
        if plan[3] is None:
            plan[3] = normalize_stats(self._attrs, a)
        return normalize_host(a, plan[3])  # the op's arithmetic (same values)


def size_pair(size, op):
    """An int or (width, height) -> (width, height)."""
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise PlaitError("size must be an int or (width, height), got %r" % (size,), arg="size",
                         op=op)
    return int(size[0]), int(size[1])


class Resize(HybridTransform):
    """Resize to `size` (an int: a square, or with keep_ratio the shorter edge; or
    (width, height)); interpolation as OpenCV (1 bilinear) (F.image.resize)."""
    _op = "_image_resize"

    def __init__(self, size, keep_ratio=False, interpolation=1):
        if not isinstance(size, (int, np.integer)):
            size = tuple(size)
            if len(size) not in (1, 2):
                size_pair(size, "Resize")
        super().__init__(size=size, keep_ratio=keep_ratio, interp=interpolation)

    def _run(self, plan, a):
        # the op's kernel without a copy into an output buffer; the size from the plan
        return resize_host(a, self._attrs, (plan[1][-2], plan[1][-3]))


class CropResize(HybridTransform):
    """The (width, height) crop at (x, y), resized to `size` (an int or (width, height))
    when given (F.image.crop, then F.image.resize)."""
    _op = "_image_crop"

    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__(x=x, y=y, width=width, height=height)
        self._resize_kwargs = self._resize_attrs = None
        if size is not None:
            self._resize_kwargs = dict(size=size_pair(size, "CropResize"), keep_ratio=False,
                                       interp=1 if interpolation is None else interpolation)
            self._resize_attrs = registry.get("_image_resize").parse_attrs(self._resize_kwargs)

    def hybrid_forward(self, F, x):
        out = F.image.crop(x, **self._kwargs)
        if self._resize_kwargs is not None:
            out = F.image.resize(out, **self._resize_kwargs)
        return out

    def _apply(self, a):
        out = super()._apply(a)
        if self._resize_attrs is None:
            return out
        return run_host_op("_image_resize", out, self._resize_attrs, type(self).__name__)
