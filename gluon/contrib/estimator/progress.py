"""ProgressBarHandler: a per-epoch progress bar with ETA, samples/s, loss and metrics.

On a terminal it draws with tqdm when tqdm is installed, or redraws one line with '\\r'
otherwise; when the output is not a terminal (a log file, CI) it prints exactly one line
per epoch, so logs stay readable.
"""
import sys
import time

from .event_handler import BatchEnd, EpochBegin, EpochEnd, TrainBegin, _batch_size, check_metrics

__all__ = ["ProgressBarHandler"]


def _fmt_time(seconds):
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%02d:%02d" % (m, s)


def _metric_text(metrics):
    parts = []
    for m in metrics:
        name, value = m.get()
        parts.append("%s %.4f" % (name.replace("training ", "").replace("validation ", "val "),
                                  value))
    return ", ".join(parts)


class ProgressBarHandler(TrainBegin, EpochBegin, BatchEnd, EpochEnd):
    """Shows training progress; replaces the default LoggingHandler when given to fit().

    Parameters: metrics (default: the estimator's training metrics, plus the validation
    metrics at epoch end), stream (default sys.stdout), use_tqdm (None: when installed and
    the stream is a terminal), refresh (seconds between redraws).
    """

    replaces_logging = True

    def __init__(self, metrics=None, stream=None, use_tqdm=None, refresh=0.2, priority=1e9):
        self.metrics = check_metrics(metrics) if metrics is not None else None
        self.stream = stream
        self.use_tqdm = use_tqdm
        self.refresh = refresh
        self.priority = priority
        self._bar = None
        self.lines = 0

    # -- helpers ------------------------------------------------------------------------------
    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _interactive(self):
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty())

    def _tqdm(self):
        if self.use_tqdm is False or not self._interactive():
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            if self.use_tqdm:
                raise ImportError("ProgressBarHandler(use_tqdm=True) needs tqdm: pip install tqdm")
            return None
        return tqdm

    def _write_line(self, text):
        out = self._out()
        out.write(text + "\n")
        out.flush()
        self.lines += 1

    # -- events -------------------------------------------------------------------------------
    def train_begin(self, estimator, *args, **kwargs):
        if self.metrics is None:
            self.metrics = list(estimator.train_metrics)
        self._val_metrics = list(estimator.val_metrics)
        self.epoch = 0
        self._total = None

    def epoch_begin(self, estimator, *args, **kwargs):
        self._start = self._last_draw = time.time()
        self._batches = 0
        self._samples = 0
        if self._total is None:
            self._total = _length(getattr(estimator, "_train_data", None))
        tqdm = self._tqdm()
        if tqdm is not None:
            self._bar = tqdm(total=self._total, desc="Epoch %d" % self.epoch, unit="batch",
                             file=self._out(), leave=True, dynamic_ncols=True)

    def _status(self):
        elapsed = max(time.time() - self._start, 1e-9)
        text = "%.0f samples/s" % (self._samples / elapsed)
        metrics = _metric_text(self.metrics)
        return text + (", " + metrics if metrics else "")

    def batch_end(self, estimator, *args, **kwargs):
        self._batches += 1
        self._samples += _batch_size(kwargs.get("batch"))
        now = time.time()
        if self._bar is not None:
            self._bar.update(1)
            if now - self._last_draw >= self.refresh:
                self._bar.set_postfix_str(self._status(), refresh=False)
                self._last_draw = now
        elif self._interactive() and now - self._last_draw >= self.refresh:
            self._last_draw = now
            done = "%d" % self._batches
            eta = ""
            if self._total:
                done = "%d/%d" % (self._batches, self._total)
                rate = self._batches / max(now - self._start, 1e-9)
                eta = " ETA %s," % _fmt_time((self._total - self._batches) / rate)
            out = self._out()
            out.write("\rEpoch %d: %s%s %s\033[K" % (self.epoch, done, eta, self._status()))
            out.flush()

    def epoch_end(self, estimator, *args, **kwargs):
        elapsed = time.time() - self._start
        text = "Epoch %d: %d batches in %s, %s" % (self.epoch, self._batches,
                                                   _fmt_time(elapsed), self._status())
        val = [m for m in self._val_metrics if m.num_inst]
        if val:
            text += ", " + _metric_text(val)
        if self._bar is not None:
            self._bar.set_postfix_str(self._status(), refresh=True)
            self._bar.close()
            self._bar = None
            self._write_line(text)
        else:
            if self._interactive():
                self._out().write("\r\033[K")
            self._write_line(text)
        if self._total is None:
            self._total = self._batches
        self.epoch += 1


def _length(data):
    try:
        return len(data)
    except TypeError:
        return None
