"""CheckpointHandler: periodic, atomic checkpoints of a training run, and resuming from them.

Files (MXNet 1.9's names, so MXNet-made checkpoint folders resume too):
  <prefix>-symbol.json                      the hybridized graph, after the first batch
  <prefix>-epoch<E>batch<B>.params/.states  parameters and trainer states
  <prefix>-best.params/.states              the best so far under `monitor` (save_best)
plait also writes <prefix>-epoch<E>batch<B>.rng.json, the state of NumPy's global generator
and of plait's own, so that a resumed run (data shuffling, dropout) continues bit for bit
as the uninterrupted one would. Every file is written to a temporary name and renamed.
"""
import json
import math
import os
import re
import tempfile

import numpy as np

from ....core import rng
from ...metric import EvalMetric
from .event_handler import BatchEnd, EpochEnd, TrainBegin, improvement_op

__all__ = ["CheckpointHandler"]


def _atomic(path, write):
    """Call write(tmp_path) then rename tmp_path to path (no half-written checkpoint)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ckpt.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _rng_state():
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"plait": rng.get_state(),
            "numpy_global": [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)]}


def _set_rng_state(state):
    rng.set_state(state["plait"])
    name, keys, pos, has_gauss, gauss = state["numpy_global"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))


class CheckpointHandler(TrainBegin, BatchEnd, EpochEnd):
    """Saves parameters and trainer states every epoch_period epochs and/or batch_period
    batches, keeps the newest max_checkpoints, optionally the best under `monitor`, and with
    resume_from_checkpoint=True continues from the newest checkpoint in model_dir."""

    def __init__(self, model_dir, model_prefix="model", monitor=None, verbose=0,
                 save_best=False, mode="auto", epoch_period=1, batch_period=None,
                 max_checkpoints=5, resume_from_checkpoint=False):
        if save_best and not isinstance(monitor, EvalMetric):
            raise ValueError("CheckpointHandler: save_best=True needs monitor=<one of the "
                             "metric objects of estimator.train_metrics or val_metrics>")
        os.makedirs(model_dir, exist_ok=True)
        self.model_dir = model_dir
        self.model_prefix = model_prefix
        self.monitor = monitor
        self.verbose = verbose
        self.save_best = save_best
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.max_checkpoints = max_checkpoints
        self.resume_from_checkpoint = resume_from_checkpoint
        self.saved_checkpoints = []
        self.trained_epoch = self.trained_batch = -1
        self._by_epoch = True
        self.current_epoch = self.current_batch = 0
        if save_best:
            self.monitor_op, self._start = improvement_op(monitor, mode, "CheckpointHandler")
            self.best = self._start

    def _path(self, name):
        return os.path.join(self.model_dir, name)

    # -- events -------------------------------------------------------------------------------
    def train_begin(self, estimator, *args, **kwargs):
        self.current_epoch = self.current_batch = 0
        self._by_epoch = bool(estimator.max_epoch)
        if self.save_best:
            self.best = self._start
        if self.resume_from_checkpoint:
            if estimator.max_batch and (not self.batch_period or self.epoch_period):
                raise ValueError("CheckpointHandler: to resume a run trained by batches, save "
                                 "by batches only (batch_period=k, epoch_period=None)")
            if estimator.max_epoch and (not self.epoch_period or self.batch_period):
                raise ValueError("CheckpointHandler: to resume a run trained by epochs, save "
                                 "by epochs only (epoch_period=k, batch_period=None)")
            self._resume(estimator)

    def batch_end(self, estimator, *args, **kwargs):
        if self.current_batch == 0:
            self._save_symbol(estimator)
        if self.batch_period and (self.current_batch + 1) % self.batch_period == 0:
            self._save_checkpoint(estimator)
        self.current_batch += 1

    def epoch_end(self, estimator, *args, **kwargs):
        if self.epoch_period and (self.current_epoch + 1) % self.epoch_period == 0:
            self._save_checkpoint(estimator)
        self.current_epoch += 1

    # -- saving -------------------------------------------------------------------------------
    def _save_symbol(self, estimator):
        path = self._path(self.model_prefix + "-symbol.json")
        cached = getattr(estimator.net, "_cached_graph", None)
        if cached:
            sym = cached[1]
            _atomic(path, sym.save)
        else:
            estimator.logger.info("Model architecture (symbol file) is not saved: build the "
                                  "model from HybridBlocks and call net.hybridize() to save it "
                                  "as %s.", path)

    def _numbers(self):
        """(epoch, batch) numbers of the checkpoint being written (counted across resumes)."""
        if self.trained_epoch < 0:
            return self.current_epoch, self.current_batch
        # epoch checkpoints are named after the batches done so far, batch checkpoints after
        # the index of the batch just finished (MXNet's numbering)
        extra = 0 if self._by_epoch else 1
        return (self.current_epoch + self.trained_epoch + 1,
                self.current_batch + self.trained_batch + extra)

    def _save_files(self, estimator, prefix):
        _atomic(self._path(prefix + ".params"), estimator.net.save_parameters)
        _atomic(self._path(prefix + ".states"), estimator.trainer.save_states)
        state = json.dumps(_rng_state())

        def write_state(path):
            with open(path, "w") as f:
                f.write(state)
        _atomic(self._path(prefix + ".rng.json"), write_state)

    def _save_checkpoint(self, estimator):
        epoch, batch = self._numbers()
        prefix = "%s-epoch%dbatch%d" % (self.model_prefix, epoch, batch)
        self._save_files(estimator, prefix)
        self.saved_checkpoints.append(prefix)
        if self.verbose > 0:
            estimator.logger.info("[Epoch %d] CheckpointHandler: trained %d batches, saved "
                                  "%s in %s", self.current_epoch, self.current_batch + 1,
                                  prefix, self.model_dir)
        while len(self.saved_checkpoints) > self.max_checkpoints:
            old = self.saved_checkpoints.pop(0)
            for ext in (".params", ".states", ".rng.json"):
                if os.path.exists(self._path(old + ext)):
                    os.remove(self._path(old + ext))
        if self.save_best:
            self._save_if_best(estimator)

    def _save_if_best(self, estimator):
        name, value = self.monitor.get()
        if isinstance(value, float) and math.isnan(value):
            estimator.logger.warning("CheckpointHandler: %s has no value yet; best model not "
                                     "saved", name)
        elif self.monitor_op(value, self.best):
            if self.verbose > 0:
                estimator.logger.info("CheckpointHandler: %s improved from %.5f to %.5f, "
                                      "saving %s-best", name, self.best, value,
                                      self.model_prefix)
            self.best = value
            self._save_files(estimator, self.model_prefix + "-best")

    # -- resuming -----------------------------------------------------------------------------
    def _find_checkpoints(self):
        pattern = re.compile(re.escape(self.model_prefix) + r"-epoch(\d+)batch(\d+)\.params$")
        found = []
        for fname in os.listdir(self.model_dir):
            m = pattern.match(fname)
            if m:
                found.append((int(m.group(1)), int(m.group(2))))
        return sorted(found)

    def _resume(self, estimator):
        found = self._find_checkpoints()
        self.saved_checkpoints = ["%s-epoch%dbatch%d" % (self.model_prefix, e, b)
                                  for e, b in found]
        if not found:
            estimator.logger.info("CheckpointHandler: no checkpoint in %s, training from "
                                  "scratch", self.model_dir)
            return
        self.trained_epoch, self.trained_batch = found[-1]
        if estimator.max_epoch:
            if self.trained_epoch >= estimator.max_epoch - 1:
                raise ValueError("CheckpointHandler: the checkpoint in %s already reached %d "
                                 "epochs; use resume_from_checkpoint=False to train from "
                                 "scratch" % (self.model_dir, estimator.max_epoch))
            estimator.max_epoch -= self.trained_epoch + 1
        if estimator.max_batch:
            if self.trained_batch >= estimator.max_batch - 1:
                raise ValueError("CheckpointHandler: the checkpoint in %s already reached %d "
                                 "batches; use resume_from_checkpoint=False to train from "
                                 "scratch" % (self.model_dir, estimator.max_batch))
            estimator.max_batch -= self.trained_batch + 1
        prefix = self._path("%s-epoch%dbatch%d" % (self.model_prefix, self.trained_epoch,
                                                     self.trained_batch))
        for ext in (".params", ".states"):
            if not os.path.exists(prefix + ext):
                raise ValueError("CheckpointHandler: cannot resume, %s is missing" % (prefix + ext))
        estimator.net.load_parameters(prefix + ".params", ctx=estimator.context)
        estimator.trainer.load_states(prefix + ".states")
        if os.path.exists(prefix + ".rng.json"):
            with open(prefix + ".rng.json") as f:
                _set_rng_state(json.load(f))
        estimator.logger.warning("CheckpointHandler: resumed from epoch %d batch %d",
                                 self.trained_epoch, self.trained_batch)
