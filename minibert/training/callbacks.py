"""Callbacks with Keras's hook names and behaviour: History, a tqdm progress bar,
EarlyStopping, ModelCheckpoint (writes presets), CSVLogger, LearningRateScheduler.

``fit`` calls, in order:

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(step) / on_train_batch_end(step, logs)   (each batch)
        on_test_begin / on_test_batch_* / on_test_end(logs)           (validation, if any)
      on_epoch_end(epoch, logs)        logs: {"loss", metrics..., "val_loss", "val_"...}
    on_train_end(logs)

``evaluate`` calls the on_test_* hooks, ``predict`` the on_predict_* hooks. Batch logs hold
the running means over the epoch so far, epoch logs the final ones, all Python floats. A
callback sets ``self.model.stop_training = True`` to end training after the current batch.
"""
import collections
import csv
import numbers
import os
import sys
import time
import warnings

import numpy as np

from minibert.progress import progress_bar

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "CSVLogger", "LearningRateScheduler"]

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class Callback:
    """Base class: every hook does nothing. ``self.model`` is the model being trained and
    ``self.params`` holds {"verbose", "epochs", "steps"}."""

    def __init__(self):
        self.params = {}
        self.model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """Old name of ``on_train_batch_begin`` (which calls it)."""

    def on_batch_end(self, batch, logs=None):
        """Old name of ``on_train_batch_end`` (which calls it)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """Calls a hook on every callback in turn; adds a History and a progress bar if asked."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        for callback in self.callbacks:
            callback.set_params(params)
            if model is not None:
                callback.set_model(model)
        history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if model is not None and history is not None:
            model.history = history


def _dispatcher(hook):
    def call_all(self, *args, **kwargs):
        for callback in self.callbacks:
            getattr(callback, hook)(*args, **kwargs)
    call_all.__name__ = hook
    return call_all


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _dispatcher(_hook))


class History(Callback):
    """Records the epoch logs: ``history.history[key]`` is the list of per-epoch values and
    ``history.epoch`` the list of epoch indices. ``fit`` returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _format_logs(logs):
    """Keras's progress-bar format: "loss: 0.6931 - accuracy: 0.5000" (1e-3 and below in %e)."""
    return " - ".join(f"{key}: {value:.4f}" if abs(value) > 1e-3 else f"{key}: {value:.4e}"
                      for key, value in logs.items() if isinstance(value, numbers.Real))


class ProgbarLogger(Callback):
    """A tqdm progress bar per epoch (``verbose=1``: steps, elapsed time, ETA, running loss and
    metrics) or one summary line per epoch (``verbose=2``), as Keras's ProgbarLogger.

    ``fit``, ``evaluate`` and ``predict`` add one when ``verbose`` is not 0; inside ``fit`` the
    validation pass shows no bar of its own, its results join the epoch's line as ``val_*``.
    """

    def __init__(self):
        super().__init__()
        self._bar = None
        self._in_fit = False
        self._start = None
        self._seen = 0

    @property
    def _verbose(self):
        verbose = self.params.get("verbose", 1)
        return 1 if verbose == "auto" else verbose

    def _open(self):
        self._close()
        self._start, self._seen = time.time(), 0
        if self._verbose == 1:
            self._bar = progress_bar(total=self.params.get("steps"), unit="step",
                                     file=sys.stdout, dynamic_ncols=True, leave=True,
                                     bar_format="{n_fmt}/{total_fmt} {bar} "
                                                "{elapsed}<{remaining}{postfix}")

    def _update(self, batch, logs):
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._seen - self._bar.n)
            if logs:
                self._bar.set_postfix_str(_format_logs(logs), refresh=False)

    def _finish(self, logs):
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(_format_logs(logs), refresh=False)
            self._close()
        elif self._verbose == 2:
            seconds = time.time() - self._start
            line = f"{self._seen}/{self._seen} - {seconds:.0f}s - " \
                   f"{1000 * seconds / max(self._seen, 1):.0f}ms/step"
            formatted = _format_logs(logs or {})
            print(line + (f" - {formatted}" if formatted else ""), file=sys.stdout)

    def _close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if self._verbose and epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", file=sys.stdout)
        self._open()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._open()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._open()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)


class _MonitorCallback(Callback):
    """Shared by EarlyStopping and ModelCheckpoint: is a monitored value an improvement?

    mode "min"/"max", or "auto": "min" for losses; for a metric, the direction it declares
    (accuracy: "max"); otherwise a ValueError asks for an explicit mode, as in Keras.
    """

    def __init__(self, monitor, mode, baseline, min_delta):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__}: mode {mode!r} is unknown, using 'auto'.",
                          stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self._lower_is_better = None

    def _resolve_mode(self):
        if self.mode != "auto":
            self._lower_is_better = self.mode == "min"
            return
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            self._lower_is_better = True
            return
        for metric in getattr(self.model, "metrics", []):
            if metric.name == name and metric.direction is not None:
                self._lower_is_better = metric.direction == "down"
                return
        raise ValueError(f"{type(self).__name__}: cannot tell whether {self.monitor!r} should "
                         "go up or down; pass mode='max' or mode='min'.")

    def _is_improvement(self, value, reference):
        if self._lower_is_better is None:
            self._resolve_mode()
        if reference is None:
            return True
        if self._lower_is_better:
            return value + self.min_delta < reference
        return value - self.min_delta > reference


class EarlyStopping(_MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs
    (``keras.callbacks.EarlyStopping``, same arguments and semantics).

    Args:
        monitor: the log key to watch ("val_loss", "loss", "val_sparse_categorical_accuracy"...).
        min_delta: a change smaller than this is no improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a line when stopping or restoring.
        mode: "auto", "min" or "max".
        baseline: stop if the value does not beat this within ``patience`` epochs.
        restore_best_weights: at the end, set the weights of the best epoch.
        start_from_epoch: epochs to let pass before watching.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, None, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"EarlyStopping: {self.monitor!r} is not in the logs; available: "
                          f"{sorted(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self._snapshot(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def _snapshot(self):
        """Copies of the weights (optimizers update the live arrays in place)."""
        return [np.array(w, copy=True) for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_MonitorCallback):
    """Save the model as a preset directory with ``model.save_to_preset`` (a directory
    KerasHub can load), every epoch or every ``save_freq`` batches.

    Args:
        filepath: the preset directory; may contain ``{epoch}`` and log keys, as
            "ckpt/epoch{epoch:02d}-{val_loss:.3f}".
        monitor, mode, initial_value_threshold: what "best" means (as EarlyStopping).
        save_best_only: save only when ``monitor`` improves; without format fields the same
            directory is overwritten by each better model.
        save_freq: "epoch" or an integer number of batches.
        verbose: 1 prints a line per save.

    Keras's ``save_weights_only`` has no counterpart: a preset always holds config and weights.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold, 0)
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or an int, got "
                             f"{save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self._epoch = 0
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, logs, batch=batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def _save(self, epoch, logs, batch=None):
        logs = logs or {}
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            path = self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: cannot format filepath {self.filepath!r}: "
                           f"{error} is not in the logs") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: can save the best model only with "
                              f"{self.monitor!r} in the logs; saving anyway.", stacklevel=3)
            elif not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            else:
                if self.verbose > 0:
                    previous = "None" if self.best is None else f"{self.best:.5f}"
                    print(f"Epoch {epoch + 1}: {self.monitor} improved from {previous} to "
                          f"{current:.5f}, saving model to {path}")
                self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        self.model.save_to_preset(path)


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (``keras.callbacks.CSVLogger``).

    Columns: "epoch", then the log keys sorted; if no key starts with "val_", a "val_" column
    is added for each key (filled with "NA"), as Keras does.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self._file = None
        self._writer = None
        self.keys = None

    def on_train_begin(self, logs=None):
        write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as existing:
                write_header = not existing.readline()
        self._write_header = write_header
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer, self.keys = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep)
            if self._write_header:
                self._writer.writeheader()
        row = collections.OrderedDict(epoch=epoch)
        row.update((key, logs.get(key, "NA")) for key in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of each epoch to
    ``schedule(epoch, current_lr)`` (or ``schedule(epoch)``), and log it as "learning_rate".

    For a per-step schedule, give the optimizer a ``minibert.optimizers.schedules`` object
    instead.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:                      # a one-argument schedule(epoch)
            learning_rate = self.schedule(epoch)
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float; got "
                             f"{learning_rate!r}")
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
