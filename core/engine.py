"""The dependency engine: asynchronous execution of operators in MXNet's model.

Every array owns a `Var`.  An operator is a zero-argument Python callable pushed with
the vars it reads and the vars it writes::

    from plait.core import engine
    v = engine.new_var()
    engine.push(fn, reads, writes, name)   # returns at once; fn runs on a worker
    engine.push(fn, reads, writes, name, True)  # inline_ok: if every var is free now,
                                                # run fn here, in this thread
    engine.wait_read(v)    # until every pushed op that writes v has finished
    engine.wait_write(v)   # until every pushed op that reads or writes v has finished
    engine.wait_all()      # until everything pushed has finished

An op runs once every earlier-pushed op it conflicts with has finished: reads of a
var run concurrently, a write waits for all earlier reads and writes, a read waits
for earlier writes.  The scheduler is C++ (plait._engine); ops run on
MXNET_CPU_WORKER_NTHREADS worker threads (default 1, as in MXNet), which hold the GIL while running
Python code (numpy kernels release it).

Exceptions: an op that raises stores its exception on every var it writes; ops that
read such a var are skipped and pass the exception on to their own outputs; a later
op that writes the var cleanly clears it.  wait_read/wait_write raise the stored
exception (with a note naming the operator); wait_all raises the first exception
that no wait has raised yet.  With NaiveEngine (env PLAIT_ENGINE_TYPE or
MXNET_ENGINE_TYPE) every op runs synchronously inside push and raises right there.

Push-ahead bound: an NDArray op allocates its outputs when it is pushed (push's nbytes),
so a Python loop that pushes faster than the ops run would hold every intermediate of,
say, a whole ResNet-50 forward at once (1.35 GB against MXNet's 745 MB, which allocates
when an op runs).  A thread outside the engine that pushes while the unfinished ops hold
more than PLAIT_PUSH_AHEAD_MB (default 64; 0 = no bound) of such outputs waits until
they drop below it.  Peak memory then stays near what is live, for little lost overlap.
"""
import atexit
import os
import sys
import threading
import warnings

from .. import _engine as _E

__all__ = ["Var", "new_var", "push", "push_async", "wait_read", "wait_write", "wait_all",
           "engine_type", "set_engine_type", "num_workers", "set_push_ahead", "pending_bytes"]

Var = _E.Var
new_var = _E.new_var
#: push(fn, reads, writes, name, inline_ok=False, nbytes=0): schedule fn() (a C function:
#: keep it direct, it is hot).  inline_ok lets an op whose vars are all free run at once in
#: the calling thread: for small Python kernels that beats a hand-off to a worker.  nbytes:
#: output bytes allocated for fn at push, counted by the push-ahead bound.
push = _E.push

_THREADED = "ThreadedEngine"
_NAIVE = "NaiveEngine"
_ALIASES = {
    "threadedengine": _THREADED, "threadedengineperdevice": _THREADED,
    "threadedenginepooled": _THREADED, "threaded": _THREADED,
    "naiveengine": _NAIVE, "naive": _NAIVE,
}


def _raise(res):
    exc, op = res
    note = ("raised asynchronously by operator '%s'; set MXNET_ENGINE_TYPE=NaiveEngine "
            "to raise it where the op is called" % (op,))
    add_note = getattr(exc, "add_note", None)
    if add_note is not None and note not in getattr(exc, "__notes__", ()):
        add_note(note)
    # Raise with the traceback of the failing op every time (re-raising the same
    # object would otherwise grow its traceback by one wait's frames per raise).
    try:
        tb = exc._plait_op_traceback
    except AttributeError:
        tb = exc.__traceback__
        try:
            exc._plait_op_traceback = tb
        except (AttributeError, TypeError):
            pass
    raise exc.with_traceback(tb)


def push_async(fn, reads, writes, name):
    """Schedule fn(done) like push; the op keeps its vars until done() or done(exc) is
    called, from any thread, so the worker is free while the work runs elsewhere (MXNet's
    PushAsync with on_complete).  With NaiveEngine (or after shutdown) fn runs here and
    this call blocks until done is called, raising the exception given to it."""
    if not _E.is_naive():
        try:
            _E.push_async(fn, reads, writes, name)
            return
        except RuntimeError as e:
            if "shut down" not in str(e):
                raise
    finished = threading.Event()
    outcome = []

    def done(exc=None):
        outcome.append(exc)
        finished.set()

    fn(done)
    finished.wait()
    if outcome[0] is not None:
        raise outcome[0]


def wait_read(var):
    """Block until every pushed op that writes `var` has finished; raise the
    exception stored on `var`, if any."""
    res = _E.wait_read(var)
    if res is not None:
        _raise(res)


def wait_write(var):
    """Block until every pushed op that reads or writes `var` has finished; raise
    the exception stored on `var`, if any."""
    res = _E.wait_write(var)
    if res is not None:
        _raise(res)


def wait_all():
    """Block until every pushed op has finished; raise the first recorded exception
    that no wait has raised yet (the record is cleared either way)."""
    res = _E.wait_all()
    if res is not None:
        _raise(res)


def engine_type():
    """'ThreadedEngine' or 'NaiveEngine'."""
    return _NAIVE if _E.is_naive() else _THREADED


def _canonical(name):
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ValueError("unknown engine type %r (expected ThreadedEngine, "
                         "ThreadedEnginePerDevice, ThreadedEnginePooled or NaiveEngine)"
                         % (name,))
    return _ALIASES[key]


def set_engine_type(name):
    """Switch between 'ThreadedEngine' (and its MXNet aliases) and 'NaiveEngine'.
    Waits for every pending op first; recorded exceptions stay for wait_all."""
    kind = _canonical(name)
    _E.wait_idle()
    _E.set_naive(kind == _NAIVE)


def num_workers():
    """Number of worker threads of the threaded engine."""
    return _E.num_workers()


def num_pending():
    """Number of pushed ops that have not finished (for tests and diagnostics)."""
    return _E.num_pending()


PUSH_AHEAD_MB = 64  # default bound of the push-ahead throttle (module docstring)


def set_push_ahead(nbytes):
    """Set the push-ahead bound in bytes (0: none); returns the previous bound."""
    prev = _E.max_pending_bytes()
    _E.set_max_pending_bytes(max(0, int(nbytes)))
    return prev


def pending_bytes():
    """Output bytes held by pushed ops that have not finished (push's nbytes)."""
    return _E.pending_bytes()


def _init_push_ahead():
    raw = os.environ.get("PLAIT_PUSH_AHEAD_MB")
    try:
        mb = PUSH_AHEAD_MB if raw is None else float(raw)
    except ValueError:
        warnings.warn("PLAIT_PUSH_AHEAD_MB=%r is not a number; using %d"
                      % (raw, PUSH_AHEAD_MB), RuntimeWarning, stacklevel=2)
        mb = PUSH_AHEAD_MB
    set_push_ahead(mb * (1 << 20))


def _init_type():
    name = os.environ.get("PLAIT_ENGINE_TYPE") or os.environ.get("MXNET_ENGINE_TYPE")
    if not name:
        return
    try:
        kind = _canonical(name)
    except ValueError as e:
        warnings.warn("%s; using ThreadedEngine" % e, RuntimeWarning, stacklevel=2)
        kind = _THREADED
    _E.set_naive(kind == _NAIVE)


def _at_exit():
    try:
        res = _E.wait_all()
        if res is not None:
            exc, op = res
            print("plait engine: operator '%s' raised %s: %s (never waited for)"
                  % (op, type(exc).__name__, exc), file=sys.stderr)
    except BaseException as e:  # never block interpreter exit
        print("plait engine: error at exit: %r" % (e,), file=sys.stderr)
    _E.shutdown()


_init_type()
_init_push_ahead()
atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    # Quiesce before fork (as MXNet does) so the child starts with no op in flight;
    # the child rebuilds its locks and starts its own workers on first use.
    os.register_at_fork(before=_E.wait_idle, after_in_child=_E.after_fork_child)
