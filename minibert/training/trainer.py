"""Trainer: Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict`` for minibert tasks.

``class Task(Trainer, Layer)`` gets these methods. The task provides:

    forward(x, training)       a dict of integer arrays -> y_pred (logits, or probabilities)
    backward(dy_pred)          adds into every trainable Variable.grad
    trainable_weights, zero_grad(), get_weights(), set_weights(), dtype_policy
    preprocessor               None, or a callable (x, y=None, sample_weight=None) -> x or
                               (x, y, sample_weight), drawing fresh MLM masks on every call
    default_compile_arguments()   the "auto" choices (optimizer, loss, metrics, weighted_metrics)
    save_to_preset(dir)        used by ModelCheckpoint

One training step (``train_on_batch``, and each batch of ``fit``) is Keras's torch
``train_step`` written out by hand:

    y_pred        = forward(x, training=True)
    loss, cache   = loss.forward(y, y_pred, sample_weight)
    zero_grad();  backward(loss.backward(loss_scale, cache))       (loss_scale 1 unless mixed)
    grads         = [v.grad for v in trainable_weights]            (None: no gradient)
    optimizer.apply(grads, trainable_weights)
    update the "loss" tracker (weighted by batch size) and the metrics with y_pred

Batches are cut and shuffled on the host (``minibert.training.data``) with
``minibert.utils.host_rng()``; text goes through the preprocessor batch by batch, every epoch,
so masked-LM masks are drawn afresh each epoch; each finished batch then moves to the backend.

Safety: a loss that is inf or NaN stops training with a FloatingPointError before the weights
are touched. With the "mixed_float16" policy ``compile`` wraps the optimizer in a
LossScaleOptimizer, which skips steps whose gradients overflow; otherwise a non-finite gradient
is an error too. Frozen weights (``layer.trainable = False``) are not in
``trainable_weights``: they get no gradient, no optimizer state and no update.
"""
import math

import numpy as np

from minibert import backend
from minibert.layers.layer import no_grad
from minibert.training import callbacks as callbacks_module
from minibert.training import data, losses, optimizers
from minibert.training import metrics as metrics_module

__all__ = ["Trainer"]


class Trainer:
    """Mixin with Keras's training API; see the module docstring for what a task provides."""

    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    history = None

    # ------------------------------------------------------------------------------ compile
    def default_compile_arguments(self):
        """The task's "auto" choices; tasks override this (KerasHub's compile defaults)."""
        return {}

    def compile(self, optimizer="auto", loss="auto", weighted_metrics="auto", metrics="auto",
                jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, loss and metrics for ``fit`` and ``evaluate``.

        Args:
            optimizer: "auto" (the task's default: Adam(5e-5) for KerasHub's tasks), a name
                ("adam", "adamw", "sgd") or a ``minibert.optimizers`` instance.
            loss: "auto" (the task's default: SparseCategoricalCrossentropy), a name or a
                ``minibert.losses`` instance.
            weighted_metrics: "auto" (the masked LM's SparseCategoricalAccuracy), None or a
                list of metrics (instances or names) updated with the sample weights.
            metrics: "auto" (the classifiers' SparseCategoricalAccuracy), None or a list of
                metrics updated without sample weights. A metric named as a weighted one gets
                the prefix "weighted_" on the weighted one, as Keras.
            jit_compile: accepted for compatibility and ignored: there is no compiler here,
                every step runs the same hand-written NumPy/CuPy code.
            auto_scale_loss: with the "mixed_float16" policy, wrap the optimizer in a
                LossScaleOptimizer (Keras's default behaviour).
        """
        defaults = self.default_compile_arguments()

        def resolve(name, value):
            if isinstance(value, str) and value == "auto":
                if name not in defaults and name in ("optimizer", "loss"):
                    raise ValueError(f"compile: {type(self).__name__} has no default {name}; "
                                     f"pass {name}=...")
                return defaults.get(name)
            return value

        self.optimizer = optimizers.get(resolve("optimizer", optimizer))
        policy = getattr(self, "dtype_policy", None)
        if (auto_scale_loss and policy is not None and policy.name == "mixed_float16"
                and not isinstance(self.optimizer, optimizers.LossScaleOptimizer)):
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer)
        loss = resolve("loss", loss)
        self.loss = None if loss is None else losses.get(loss)
        unweighted = [metrics_module.get(m) for m in resolve("metrics", metrics) or []]
        weighted = [metrics_module.get(m)
                    for m in resolve("weighted_metrics", weighted_metrics) or []]
        taken = {m.name for m in unweighted}
        for metric in weighted:
            if metric.name in taken:
                metric.name = f"weighted_{metric.name}"
        self._compiled_metrics = [(m, False) for m in unweighted] + [(m, True) for m in weighted]
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.jit_compile = jit_compile
        self.stop_training = False
        self.compiled = True

    def _require_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(f"{method}: call compile() first (it chooses the optimizer and "
                               "the loss).")
        if self.loss is None:
            raise RuntimeError(f"{method}: the model was compiled without a loss.")

    @property
    def metrics(self):
        """The loss tracker, then the compiled metrics (unweighted first)."""
        if not self.compiled:
            return []
        return [self._loss_tracker] + [m for m, _ in self._compiled_metrics]

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def _logs(self):
        return {metric.name: metric.result() for metric in self.metrics}

    def _flatten_logs(self, logs):
        """Keras's ordering: [loss, metric, ...], or the loss alone when it is all there is."""
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------------- one batch
    def _prepare_batch(self, batch):
        """(x, y, sample_weight) host batch -> text preprocessed, x on the backend.

        y and sample_weight stay on the host; the loss checks the labels' range there and
        moves them (they are small next to the logits).
        """
        x, y, sample_weight = batch
        if getattr(self, "preprocessor", None) is not None and data.contains_strings(x):
            outputs = self.preprocessor(data.strings_to_python(x), y=y,
                                        sample_weight=sample_weight)
            x, y, sample_weight = data.to_host(data.unpack_x_y_sample_weight(outputs))
        elif data.contains_strings(x):
            raise ValueError("x: got text but this task has no preprocessor; set "
                             "task.preprocessor or pass token-id dicts")
        return data.map_leaves(x, backend.asarray), y, sample_weight

    def _gradients(self, loss_fn, x, y, sample_weight, loss_scale, training):
        """Forward, loss, backward. Returns (y_pred, loss (0-d array), grads, variables)."""
        variables = self.trainable_weights
        y_pred = self.forward(x, training=training)
        loss, cache = loss_fn.forward(y, y_pred, sample_weight)
        self.zero_grad()
        self.backward(loss_fn.backward(loss_scale, cache))
        return y_pred, loss, [v.grad for v in variables], variables

    def _update_metrics(self, x, y, y_pred, sample_weight, loss):
        batch_size = data.leaves(x)[0].shape[0]
        self._loss_tracker.update_state(loss, sample_weight=batch_size)
        for metric, weighted in self._compiled_metrics:
            metric.update_state(y, y_pred, sample_weight if weighted else None)

    def _train_step(self, batch, where=""):
        x, y, sample_weight = self._prepare_batch(batch)
        if y is None:
            raise ValueError("fit: no labels; pass y (or a preprocessor that makes them)")
        if not self.trainable_weights:
            raise ValueError("fit: the model has no trainable weights (everything is frozen)")
        scaled = isinstance(self.optimizer, optimizers.LossScaleOptimizer)
        y_pred, loss, grads, variables = self._gradients(
            self.loss, x, y, sample_weight, self.optimizer.scale_loss(1.0), training=True)
        value = float(loss)
        if not math.isfinite(value):
            raise FloatingPointError(
                f"The training loss is {value}{where}; training stopped before this step "
                "could change any weight. Lower the learning rate, clip the gradients "
                "(clipnorm / global_clipnorm), or check the inputs and labels.")
        if not scaled:
            self._check_finite_gradients(grads, variables, where)
        self.optimizer.apply(grads, variables)
        self._update_metrics(x, y, y_pred, sample_weight, loss)
        return self._logs()

    @staticmethod
    def _check_finite_gradients(grads, variables, where):
        present = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if present and not optimizers.all_finite([g for g, _ in present]):
            bad = [v.path for g, v in present if not optimizers.all_finite([g])]
            raise FloatingPointError(
                f"Non-finite gradients{where} for {bad[:5]}; training stopped before this "
                "step could change any weight. Lower the learning rate or clip the gradients.")

    def _test_step(self, batch):
        x, y, sample_weight = self._prepare_batch(batch)
        if y is None:
            raise ValueError("evaluate: no labels; pass y (or a preprocessor that makes them)")
        with no_grad():
            y_pred = self.forward(x, training=False)
        loss, _ = self.loss.forward(y, y_pred, sample_weight)
        self._update_metrics(x, y, y_pred, sample_weight, loss)
        return self._logs()

    def _predict_step(self, batch):
        x, _, _ = self._prepare_batch(batch)
        with no_grad():
            outputs = self.forward(x, training=False)
        return data.map_leaves(outputs, backend.to_numpy)

    # ----------------------------------------------------------------------- public steps
    def _standardize_inputs(self, x, y, sample_weight):
        """A tuple x = (features, y[, sample_weight]) with features a dict is unpacked, as a
        preprocessor's output is; everything else is x itself."""
        if (y is None and sample_weight is None and isinstance(x, tuple)
                and 2 <= len(x) <= 3 and isinstance(x[0], dict)):
            return data.unpack_x_y_sample_weight(x)
        return x, y, sample_weight

    def loss_and_gradients(self, x, y=None, sample_weight=None, training=True):
        """The loss on one batch and its gradients, without changing any weight.

        Args:
            x: a dict of integer arrays (or text, with a preprocessor); y: labels, or None
                when the preprocessor makes them; sample_weight: None or per-label weights.
            training: run dropout (True, as in a training step) or not.

        Returns:
            (loss, grads): the loss as a float and a list aligned with
            ``self.trainable_weights`` holding each gradient (an array on the backend, in the
            weight's dtype) or None for a weight that does not take part in the loss. Under
            loss scaling (mixed_float16) the backward pass runs scaled and the gradients are
            divided by the scale again.
        """
        loss_fn = self.loss or self.default_compile_arguments().get("loss")
        if loss_fn is None:
            raise RuntimeError("loss_and_gradients: call compile(loss=...) first.")
        scale = 1.0 if self.optimizer is None else self.optimizer.scale_loss(1.0)
        batch = self._prepare_batch(self._standardize_inputs(x, y, sample_weight))
        _, loss, grads, _ = self._gradients(losses.get(loss_fn), *batch, loss_scale=scale,
                                            training=training)
        if scale != 1.0:
            grads = [None if g is None else g / scale for g in grads]
        return float(loss), grads

    def train_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        self.reset_metrics()
        logs = self._train_step(self._standardize_inputs(x, y, sample_weight))
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) of one batch, without training."""
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        logs = self._test_step(self._standardize_inputs(x, y, sample_weight))
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x):
        """The model's output on one batch, as NumPy."""
        return self._predict_step((x, None, None))

    # --------------------------------------------------------------------------------- fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None):
        """Train for ``epochs`` epochs (Keras's ``Model.fit``); returns the History.

        Args:
            x: a dict of integer arrays; text (a list/array of strings, a tuple of them for
                sentence pairs) when the task has a preprocessor; a tuple (x, y) or
                (x, y, sample_weight) of those; or an iterable of such batches.
            y, sample_weight: arrays aligned with x (None for an iterable of batches).
            batch_size: samples per batch (default 32; None for an iterable of batches).
            epochs: train until this epoch index (so ``epochs - initial_epoch`` epochs).
            verbose: "auto" or 1: a progress bar; 2: one line per epoch; 0: silent.
            callbacks: a list of ``minibert.callbacks`` objects.
            validation_split: the last fraction of in-memory data held out for validation.
            validation_data: (x, y) or (x, y, sample_weight), or an iterable of batches,
                evaluated after each epoch; its results are logged as "val_*".
            shuffle: draw a fresh order of the in-memory samples each pass.
            initial_epoch: the epoch to start from (for resuming).
            steps_per_epoch: batches per epoch (see ``minibert.training.data``).
        """
        self._require_compiled("fit")
        x, y, sample_weight = self._standardize_inputs(x, y, sample_weight)
        if validation_split and validation_data is None:
            if data.is_batch_iterable(x):
                raise ValueError("validation_split needs in-memory data; pass validation_data "
                                 "for an iterable of batches")
            (x, y, sample_weight), validation_data = data.train_validation_split(
                (data.to_host(x), data.to_host(y), data.to_host(sample_weight)),
                validation_split)
        if validation_data is not None and isinstance(validation_data, tuple):
            validation_data = data.unpack_x_y_sample_weight(validation_data)
        elif validation_data is not None:
            validation_data = (validation_data, None, None)
        batches = data.EpochIterator(x, y, sample_weight, batch_size, steps_per_epoch, shuffle)
        callbacks = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=batches.num_batches)
        self.stop_training = False
        callbacks.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            for step, batch in batches.epoch():
                callbacks.on_train_batch_begin(step)
                logs = self._train_step(batch, where=f" at epoch {epoch + 1}, step {step + 1}")
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = self._logs()
            if validation_data is not None:
                val_x, val_y, val_sample_weight = validation_data
                val_batches = data.EpochIterator(
                    val_x, val_y, val_sample_weight,
                    None if data.is_batch_iterable(val_x) else batch_size)
                val_logs = self._run_test(val_batches, callbacks)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics over the data (Keras's ``Model.evaluate``), without training.

        Returns the loss alone if there are no metrics, else [loss, metrics...] in
        ``metrics_names`` order, or a dict with ``return_dict=True``. Text goes through the
        preprocessor (for a masked LM: freshly drawn masks).
        """
        self._require_compiled("evaluate")
        x, y, sample_weight = self._standardize_inputs(x, y, sample_weight)
        batches = data.EpochIterator(x, y, sample_weight, batch_size, steps)
        callbacks = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=batches.num_batches)
        logs = self._run_test(batches, callbacks)
        return logs if return_dict else self._flatten_logs(logs)

    def _run_test(self, batches, callbacks):
        """One pass of test steps over ``batches``; returns the logs."""
        self.reset_metrics()
        callbacks.on_test_begin()
        for step, batch in batches.epoch():
            callbacks.on_test_batch_begin(step)
            logs = self._test_step(batch)
            callbacks.on_test_batch_end(step, logs)
        logs = self._logs()
        callbacks.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, batch by batch, concatenated as NumPy arrays (a dict of
        them for dict outputs). Text goes through the preprocessor first."""
        x, _, _ = self._standardize_inputs(x, None, None)
        batches = data.EpochIterator(x, None, None, batch_size, steps)
        callbacks = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=batches.num_batches)
        callbacks.on_predict_begin()
        outputs = []
        for step, batch in batches.epoch():
            callbacks.on_predict_batch_begin(step)
            outputs.append(self._predict_step(batch))
            callbacks.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("predict: x holds no samples")
        if isinstance(outputs[0], dict):
            return {key: np.concatenate([o[key] for o in outputs]) for key in outputs[0]}
        return np.concatenate(outputs)
