"""The operator registry: each operator is defined exactly once, as one `OpDef`.

Everything else reads that definition: `mx.nd.X` (and later `mx.sym.X`) are built
from it, the invoke path runs its parameter parser, shape and type rules and kernel,
and the generic test suite walks `all_ops()` checking every op against its NumPy
reference and its bad-input cases.  An OpDef is validated when it is registered, so a
missing piece is found at import, not by a user.

Kernels are written once against an array namespace `xp` (NumPy on CPU, CuPy on GPU):
- `forward(xp, attrs, ins, outs)` writes into the given output buffers, or
- `compute(xp, attrs, *ins)` returns the result(s), which are copied into the outputs.
"""
import numpy as np

from ..base import FLOAT_DTYPES, NUMERIC_DTYPES, SUPPORTED_DTYPES, PlaitError, fail
from .params import REQUIRED, Attrs, Param

_OPS = {}      # name or alias -> OpDef
_PRIMARY = {}  # name -> OpDef (no aliases)

DTYPE_SETS = {
    "float": FLOAT_DTYPES,
    "numeric": NUMERIC_DTYPES,
    "all": SUPPORTED_DTYPES,
    "int": tuple(d for d in NUMERIC_DTYPES if d.kind in "iu"),
}


class Sample:
    """One test case of an op: NumPy inputs plus attribute kwargs."""
    __slots__ = ("inputs", "attrs", "note")

    def __init__(self, inputs, attrs=None, note=""):
        self.inputs, self.attrs, self.note = list(inputs), dict(attrs or {}), note

    def __repr__(self):
        return "Sample(%s, %s%s)" % ([(a.shape, a.dtype.name) for a in self.inputs], self.attrs,
                                     ", " + self.note if self.note else "")


class BadSample(Sample):
    """An input that must be rejected with a PlaitError whose text contains `match`."""
    __slots__ = ("match",)

    def __init__(self, inputs, attrs=None, match=(), note=""):
        super().__init__(inputs, attrs, note)
        self.match = (match,) if isinstance(match, str) else tuple(match)


def first_input_type(attrs, in_types):
    """Default type rule: every input has the first input's dtype; the output too."""
    t0 = in_types[0]
    for i, t in enumerate(in_types[1:], 1):
        if t != t0:
            fail("input %d" % i, "dtype %s does not match input 0's dtype %s", t.name, t0.name)
    return [t0]


class OpDef:
    """Everything about one operator.  See DESIGN.md, 'The OpDef'.

    name, aliases   MXNet's op name exactly, and other names it answers to
    inputs          input names, e.g. ("lhs", "rhs"); with `variadic`, the count comes from the
                    param named by `variadic` (e.g. "num_args") and inputs are named arg0, arg1, ...
    inputs_fn       callable(attrs) -> the input names of one call, for ops whose inputs
                    depend on params (FullyConnected/Convolution without bias when no_bias=True);
                    `inputs` stays the full tuple (signatures, docs).  A call whose input count
                    differs from len(inputs) takes invoke's slow check, which asks input_names;
                    the shape rule must reject a full-length call the params do not allow
    num_outputs     int, or callable(attrs) -> int
    params          dict name -> Param
    infer_shape     callable(attrs, in_shapes) -> list of output shapes (raises via base.fail)
    infer_type      callable(attrs, in_types) -> list of output dtypes
    forward/compute the kernel (see module docstring)
    dtypes          allowed input dtypes: 'float' | 'numeric' | 'int' | 'all' | tuple of np.dtype
    out_dtype_param name of a param that sets the output dtype (creation ops)
    mutates         input indices this op writes (optimizer updates, aux states)
    inplace         [(in_idx, out_idx)] pairs the planner may alias
    resources       ('rng',) for random ops
    gradient        gradient(F, attrs, inputs, outputs, out_grads) -> [grad or None per input],
                    written with F's registered ops (F is mx.nd or mx.sym); nondiff=True for
                    ops without a gradient (comparisons, argmax, random, ...)
    train_aware     the kernel reads attrs["__is_train__"] (set from autograd's train mode)
    fd_check        False for ops whose gradient is by definition not the derivative of the
                    forward (SoftmaxOutput and the *RegressionOutput losses); checked
                    against MXNet fixtures instead of finite differences
    grad_inputs     indices of the inputs that have gradients (default: all float inputs)
    grad_mask       the gradient rule takes a keyword `needed` (a bool per input: whether
                    that input's gradient is used) and may return None for unneeded ones
    reference       NumPy formula: callable(attrs, *np_inputs) -> array or tuple of arrays
    check           instead of reference, for random ops: callable(attrs, np_inputs, np_outputs)
                    that asserts statistical properties
    samples         callable(dtype) -> iterable of Sample (dtype: the float/int type under test)
    test_dtypes     dtypes the generic test sweeps (default float32, float64)
    bad_samples     callable() -> iterable of BadSample, op-specific bad inputs
    tol             (rtol, atol) overrides for the reference comparison
    hidden          internal op (leading underscore), not listed in docs
    doc             user docstring
    """

    def __init__(self, name, *, aliases=(), inputs=("data",), num_outputs=1, output_names=None,
                 params=None, variadic=None, infer_shape=None, infer_type=first_input_type,
                 forward=None, compute=None, dtypes="all", out_dtype_param=None, mutates=(),
                 inplace=(), resources=(), gradient=None, nondiff=False, reference=None,
                 check=None, samples=None, test_dtypes=("float32", "float64"), bad_samples=None,
                 tol=None, hidden=None, doc="", onnx_export=None, onnx_import=None,
                 composite=None, key_var_num_args=None, train_aware=False, fd_check=True,
                 grad_inputs=None, inputs_fn=None, grad_mask=False, onnx_opsets=None):
        self.name = name
        self.aliases = tuple(aliases)
        self.inputs = tuple(inputs)
        self.inputs_fn = inputs_fn
        self.num_outputs = num_outputs
        self.output_names = output_names
        self.params = dict(params or {})
        self.variadic = variadic
        self.infer_shape = infer_shape
        self.infer_type = infer_type
        self.forward = forward
        self.compute = compute
        self.dtypes = DTYPE_SETS[dtypes] if isinstance(dtypes, str) else tuple(
            np.dtype(d) for d in dtypes)
        self.out_dtype_param = out_dtype_param
        self.mutates = tuple(mutates)
        self.inplace = tuple(inplace)
        self.resources = tuple(resources)
        self.gradient = gradient
        self.nondiff = nondiff
        self.reference = reference
        self.check = check
        self.samples = samples
        self.test_dtypes = tuple(np.dtype(d) for d in test_dtypes)
        self.bad_samples = bad_samples
        self.tol = tol
        self.hidden = name.startswith("_") if hidden is None else hidden
        self.doc = doc
        self.onnx_export = onnx_export
        self.onnx_import = onnx_import
        self.onnx_opsets = onnx_opsets  # (lo, hi) ONNX opsets onnx_export writes (hi None: open)
        self.composite = composite
        self.train_aware = train_aware  # kernel reads attrs["__is_train__"] (Dropout, BatchNorm)
        self.fd_check = fd_check        # False: backward is not the forward's derivative
        self.grad_mask = grad_mask      # gradient(..., needed=[bool per input])
        self.grad_inputs = grad_inputs  # indices of differentiable inputs (None: float ones)
        self._validate()
        # facts the imperative hot path reads without calling anything
        from .shape_rules import same_as_input
        self.fixed_inputs = -1 if variadic else len(self.inputs)
        self.dtype_set = frozenset(self.dtypes)
        # one input, one output of the input's shape: the invoke path skips infer_shape
        self.same_as_input = (infer_shape is same_as_input and num_outputs == 1
                              and len(self.inputs) == 1 and not variadic)
        self.keeps_dtype = infer_type is first_input_type
        self.fast_unary = (self.same_as_input and not self.mutates and not self.resources
                           and not train_aware)

    # -- validation at registration ------------------------------------------------------------
    def _validate(self):
        if (self.forward is None) == (self.compute is None):
            raise TypeError("OpDef %s: give exactly one of forward= or compute=" % self.name)
        if self.infer_shape is None:
            raise TypeError("OpDef %s: infer_shape is required" % self.name)
        if self.variadic and self.variadic not in self.params:
            raise TypeError("OpDef %s: variadic count param %r is not in params"
                            % (self.name, self.variadic))
        clash = set(self.params) & set(self.inputs)
        if clash:
            raise TypeError("OpDef %s: names used as both input and param: %s" % (self.name, clash))

    # -- reading the definition ----------------------------------------------------------------
    def n_outputs(self, attrs):
        n = self.num_outputs
        return n(attrs) if callable(n) else n

    def input_names(self, attrs=None):
        if self.variadic:
            n = attrs[self.variadic] if attrs is not None else 0
            return tuple("arg%d" % i for i in range(n))
        if self.inputs_fn is not None and attrs is not None:
            return tuple(self.inputs_fn(attrs))
        return self.inputs

    def parse_attrs(self, kwargs):
        """kwargs (Python values or MXNet strings) -> Attrs with every param filled in."""
        attrs = Attrs()
        params = self.params
        for key, value in kwargs.items():
            p = params.get(key)
            if p is None:
                if key.startswith("__") and key.endswith("__"):
                    continue  # symbol attributes such as __lr_mult__ ride along unparsed
                raise PlaitError("unknown argument %r; %s takes %s" % (
                    key, self.name, ", ".join(list(self.inputs) + list(params)) or "no arguments"),
                    op=self.name)
            try:
                attrs[key] = p.parse(value, key)
            except PlaitError as e:
                e.op = self.name
                raise
        if len(attrs) != len(params):
            for key, p in params.items():
                if key not in attrs:
                    if p.default is REQUIRED:
                        raise PlaitError("required argument is missing (%s)" % p.type_doc(),
                                         arg=key, op=self.name)
                    attrs[key] = p.default
        return attrs

    def format_attrs(self, attrs):
        """Attrs -> {name: MXNet string}, leaving out values equal to the default."""
        out = {}
        for key, value in attrs.items():
            p = self.params.get(key)
            if p is not None and not (p.default is not REQUIRED and value == p.default):
                out[key] = p.format(value)
        return out

    def check_dtypes(self, in_types):
        allowed = self.dtypes
        for i, t in enumerate(in_types):
            if t not in allowed:
                names = self.inputs if not self.variadic else ()
                arg = names[i] if i < len(names) else "input %d" % i
                raise PlaitError("dtype %s is not supported (supported: %s)"
                                 % (t.name, ", ".join(d.name for d in allowed)),
                                 arg=arg, op=self.name)

    def __repr__(self):
        return "<OpDef %s>" % self.name


def register(opdef):
    """Add an OpDef to the registry (its name and aliases must be new)."""
    for n in (opdef.name,) + opdef.aliases:
        if n in _OPS:
            raise ValueError("operator %r is registered twice" % n)
        _OPS[n] = opdef
    _PRIMARY[opdef.name] = opdef
    return opdef


def get(name):
    try:
        return _OPS[name]
    except KeyError:
        raise PlaitError("operator %r is not registered" % name) from None


def all_ops():
    """Every registered OpDef (once each, aliases not repeated), sorted by name."""
    return [_PRIMARY[k] for k in sorted(_PRIMARY)]


def all_names():
    return sorted(_OPS)


def contrib_accessors(label, get_api, public, prefix="_contrib_", make=None):
    """(__getattr__, __dir__) for an op namespace module (mx.nd.contrib, mx.sym.contrib with
    the prefix '_contrib_'; mx.nd.image, mx.sym.image with '_image_'): `<label>.<name>` is
    the API function of the registered op `<prefix><name>` found on the module get_api()
    returns, or, given `make`, the function make(opdef, name) builds (once; mx.sym uses it
    so that the short name is the node-name hint, as in MXNet: `to_tensor0`); `public`
    lists the module's own names."""
    made = {}

    def getattr_(name):
        if name.startswith("__") or prefix + name not in _OPS:
            raise AttributeError("module %r has no attribute %r" % (label, name))
        if make is None:
            return getattr(get_api(), prefix + name)
        fn = made.get(name)
        if fn is None:
            fn = made[name] = make(_OPS[prefix + name], name)
        return fn

    def dir_():
        return sorted(list(public) + [n[len(prefix):] for n in all_names()
                                      if n.startswith(prefix)])
    return getattr_, dir_
