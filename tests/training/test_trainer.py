"""The fit loop on a small task: batching, shuffling, preprocessing, validation, callbacks,
frozen weights, the NaN guard and loss scaling. Parity with KerasHub's models is in
test_fit_parity.py."""
import csv
import os

import numpy as np
import pytest

from minibert import utils
from minibert.testing.gradient_check import check_gradients
from minibert.training import callbacks, losses, metrics, optimizers
from reference_libraries import require
from training.tiny_task import BagOfWordsClassifier, HashingPreprocessor

N, T, V, C = 10, 6, 50, 3


def dataset(seed=0, n=N):
    rng = np.random.default_rng(seed)
    x = {"token_ids": rng.integers(0, V, size=(n, T)).astype("int32")}
    y = rng.integers(0, C, size=(n,))
    return x, y


def model(seed=0, learning_rate=0.05, **compile_kwargs):
    utils.set_random_seed(seed)
    task = BagOfWordsClassifier(V, 8, C)
    task.compile(optimizer=optimizers.Adam(learning_rate), **compile_kwargs)
    return task


def rows(x, index):
    return {key: value[index] for key, value in x.items()}


def snapshot(task):
    """Copies of the weights (get_weights may share memory with arrays updated in place)."""
    return [np.array(w, copy=True) for w in task.get_weights()]


def weights_equal(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def test_fit_is_train_on_batch_over_consecutive_slices():
    """Without shuffling, fit's steps are train_on_batch on rows [0:4], [4:8], [8:10], and the
    epoch loss is the batch-size-weighted mean of the step losses (Keras's loss tracker)."""
    x, y = dataset()
    fitted, manual = model(), model()
    history = fitted.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for epoch in range(2):
        step_losses = [manual.train_on_batch(rows(x, s), y[s])[0]
                       for s in (slice(0, 4), slice(4, 8), slice(8, 10))]
        expected = (4 * step_losses[0] + 4 * step_losses[1] + 2 * step_losses[2]) / 10
        assert abs(history.history["loss"][epoch] - expected) <= 1e-6
    assert weights_equal(fitted.get_weights(), manual.get_weights())
    assert history.epoch == [0, 1]
    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}


def test_shuffle_draws_each_epoch_order_from_the_host_generator():
    x, y = dataset()
    fitted, manual = model(), model()
    utils.set_random_seed(42)
    fitted.fit(x, y, batch_size=4, epochs=2, verbose=0)
    utils.set_random_seed(42)
    orders = [utils.host_rng().permutation(N) for _ in range(2)]
    for order in orders:
        for start in range(0, N, 4):
            index = order[start:start + 4]
            manual.train_on_batch(rows(x, index), y[index])
    assert weights_equal(fitted.get_weights(), manual.get_weights())
    unshuffled = model()
    unshuffled.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert not weights_equal(fitted.get_weights(), unshuffled.get_weights())


def test_two_seeded_runs_are_identical():
    x, y = dataset()
    runs = []
    for _ in range(2):
        task = model(seed=3)
        history = task.fit(x, y, batch_size=3, epochs=3, verbose=0, validation_split=0.2)
        runs.append((task.get_weights(), history.history))
    assert weights_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]


def test_steps_per_epoch_matches_keras():
    """Keras draws consecutive batches from one pass and cuts the epoch that reaches the end
    of the data short, with a warning; the next epoch starts a new pass."""
    keras = require("keras")
    x, y = dataset()

    class CountSteps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.counts = []

        def on_epoch_begin(self, epoch, logs=None):
            self.counts.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.counts[-1] += 1

    class OurCountSteps(callbacks.Callback):
        on_train_begin = CountSteps.on_train_begin
        on_epoch_begin = CountSteps.on_epoch_begin
        on_train_batch_end = CountSteps.on_train_batch_end

    reference_model = keras.Sequential([keras.Input((T,)), keras.layers.Dense(C)])
    reference_model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    reference = CountSteps()
    reference_model.fit(x["token_ids"].astype("float32"), y, batch_size=2, epochs=4,
                        steps_per_epoch=2, verbose=0, callbacks=[reference])
    ours = OurCountSteps()
    with pytest.warns(UserWarning, match="ran out of data"):
        model().fit(x, y, batch_size=2, epochs=4, steps_per_epoch=2, verbose=0,
                    callbacks=[ours])
    assert ours.counts == reference.counts == [2, 2, 1, 2]


def test_initial_epoch_resumes_the_epoch_count():
    x, y = dataset()
    seen = []
    history = model().fit(x, y, epochs=4, initial_epoch=2, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch: seen.append(epoch) or 0.01)])
    assert history.epoch == [2, 3] and seen == [2, 3]


def test_tuple_inputs_and_generators_are_the_same_data():
    x, y = dataset()
    weight = np.linspace(0.5, 1.5, N).astype("float32")
    reference = model()
    reference.fit(x, y, sample_weight=weight, batch_size=5, shuffle=False, verbose=0)
    as_tuple = model()
    as_tuple.fit((x, y, weight), batch_size=5, shuffle=False, verbose=0)
    as_generator = model()
    as_generator.fit(((rows(x, s), y[s], weight[s]) for s in (slice(0, 5), slice(5, 10))),
                     verbose=0)
    assert weights_equal(reference.get_weights(), as_tuple.get_weights())
    assert weights_equal(reference.get_weights(), as_generator.get_weights())


def test_validation_split_holds_out_the_last_samples():
    x, y = dataset()
    task = model()
    history = task.fit(x, y, batch_size=4, epochs=2, validation_split=0.3, shuffle=False,
                       verbose=0)
    held_out = task.evaluate(rows(x, slice(7, 10)), y[7:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == held_out["loss"]
    assert history.history["val_sparse_categorical_accuracy"][-1] == \
        held_out["sparse_categorical_accuracy"]
    trained_on_seven = model()
    trained_on_seven.fit(rows(x, slice(0, 7)), y[:7], batch_size=4, epochs=2, shuffle=False,
                         verbose=0)
    assert weights_equal(task.get_weights(), trained_on_seven.get_weights())


def test_evaluate_and_predict_outputs():
    x, y = dataset()
    task = model()
    assert len(task.evaluate(x, y, batch_size=4, verbose=0)) == 2
    logs = task.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    logits = task.predict(x, batch_size=4, verbose=0)
    assert isinstance(logits, np.ndarray) and logits.shape == (N, C)
    np.testing.assert_array_equal(logits[:3], task.predict_on_batch(rows(x, slice(0, 3))))
    expected_loss = losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    assert abs(logs["loss"] - expected_loss) <= 1e-6          # equal batches of 4, 4, 2: mean
    expected_accuracy = float(np.mean(logits.argmax(-1) == y))
    assert abs(logs["sparse_categorical_accuracy"] - expected_accuracy) <= 1e-6
    no_metrics = model(metrics=None)
    assert isinstance(no_metrics.evaluate(x, y, verbose=0), float)


def test_text_is_preprocessed_every_epoch_with_fresh_masks():
    texts = [f"word{i} word{i + 1} word{i + 2} other{i}" for i in range(N)]
    _, y = dataset()
    preprocessor = HashingPreprocessor(V, T)
    task = model()
    task.preprocessor = preprocessor
    task.fit(texts, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    first, second = preprocessor.outputs[:2], preprocessor.outputs[2:4]
    assert len(preprocessor.outputs) == 4 and all(o.shape == (5, T) for o in first + second)
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))
    assert task.predict(texts, batch_size=5, verbose=0).shape == (N, C)
    task.preprocessor = None
    with pytest.raises(ValueError, match="no preprocessor"):
        task.fit(texts, y, verbose=0)


def test_loss_and_gradients_are_the_gradients_of_the_loss():
    """Checked against central differences in float64; a second call gives the same
    gradients (they are zeroed first, not accumulated)."""
    utils.set_random_seed(0)
    task = BagOfWordsClassifier(V, 4, C, dtype="float64")
    task.compile(optimizer="sgd")
    x, y = dataset(n=4)
    weight = np.array([1.0, 0.5, 0.0, 2.0])
    loss, grads = task.loss_and_gradients(x, y, weight)
    again_loss, again = task.loss_and_gradients(x, y, weight)
    assert loss == again_loss and all(np.array_equal(a, b) for a, b in zip(grads, again))
    variables = task.trainable_weights
    report = check_gradients(lambda: task.loss_and_gradients(x, y, weight)[0],
                             {v.path: v.value for v in variables},
                             {v.path: g for v, g in zip(variables, grads)})
    assert report.max_relative_error <= 1e-7, f"\n{report}"


def test_frozen_weights_are_untouched_and_get_no_state():
    x, y = dataset()
    task = model()
    task.embedding.trainable = False
    embedding_before = task.embedding.embeddings.numpy().copy()
    kernel_before = task.logits.kernel.numpy().copy()
    task.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.array_equal(task.embedding.embeddings.numpy(), embedding_before)
    assert not np.array_equal(task.logits.kernel.numpy(), kernel_before)
    assert len(task.optimizer.variables) == 4            # Adam's m and v for kernel and bias
    assert task.embedding.embeddings.grad is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_loss_stops_before_touching_the_weights():
    x, y = dataset()
    weight = np.ones(N, "float32")
    weight[6] = np.nan                                   # in the second batch of 4
    task, reference = model(), model()
    with pytest.raises(FloatingPointError, match="epoch 1, step 2"):
        task.fit(x, y, sample_weight=weight, batch_size=4, shuffle=False, verbose=0)
    reference.train_on_batch(rows(x, slice(0, 4)), y[:4])
    assert weights_equal(task.get_weights(), reference.get_weights())


class NaNBiasGradient(BagOfWordsClassifier):
    """A backward that breaks the bias gradient (a finite loss with a non-finite gradient)."""

    def backward(self, dlogits):
        super().backward(dlogits)
        self.logits.bias.grad[0] = np.nan


def test_non_finite_gradient_without_loss_scaling_is_an_error():
    x, y = dataset()
    utils.set_random_seed(0)
    task = NaNBiasGradient(V, 8, C)
    task.compile(optimizer=optimizers.Adam(0.05))
    before = snapshot(task)
    with pytest.raises(FloatingPointError, match="logits/bias"):
        task.train_on_batch(rows(x, slice(0, 2)), y[:2])
    assert weights_equal(task.get_weights(), before)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")          # the float16 overflow itself
def test_mixed_float16_wraps_a_loss_scale_optimizer_that_skips_overflow():
    """float16 gradients scaled by 2**40 overflow: the step is skipped (weights unchanged) and
    the scale halves until the gradients fit."""
    x, y = dataset()
    utils.set_random_seed(0)
    task = BagOfWordsClassifier(V, 8, C, dtype="mixed_float16")
    task.compile(optimizer=optimizers.Adam(0.05))
    assert isinstance(task.optimizer, optimizers.LossScaleOptimizer)
    task.optimizer.dynamic_scale = 2.0 ** 40
    before = snapshot(task)
    task.train_on_batch(rows(x, slice(0, 4)), y[:4])
    assert weights_equal(task.get_weights(), before)
    assert task.optimizer.dynamic_scale == 2.0 ** 39 and task.optimizer.iterations == 0
    while task.optimizer.iterations == 0:
        task.train_on_batch(rows(x, slice(0, 4)), y[:4])
    assert task.optimizer.dynamic_scale < 2.0 ** 39
    assert not weights_equal(task.get_weights(), before)
    assert all(w.dtype == np.float32 for w in task.get_weights())


def test_compile_defaults_and_names():
    task = BagOfWordsClassifier(V, 8, C)
    task.compile(jit_compile=True)
    assert isinstance(task.optimizer, optimizers.Adam) and task.optimizer.learning_rate == 5e-5
    assert task.metrics_names == ["loss", "sparse_categorical_accuracy"]
    task.compile(optimizer="adamw", loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"], weighted_metrics=["accuracy"])
    assert isinstance(task.optimizer, optimizers.AdamW)
    assert task.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    with pytest.raises(RuntimeError, match="compile"):
        BagOfWordsClassifier(V, 8, C).fit(*dataset(), verbose=0)


# ----------------------------------------------------------------------------- callbacks
class InjectScores(callbacks.Callback):
    """Puts a given "score" into each epoch's logs and keeps the weights of each epoch."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.weights = scores, []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights.append([np.array(w) for w in self.model.get_weights()])


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = dataset()
    task = model()
    inject = InjectScores([3.0, 1.0, 2.0, 5.0, 0.5, 0.1])
    stop = callbacks.EarlyStopping(monitor="score", mode="min", patience=2,
                                   restore_best_weights=True)
    history = task.fit(x, y, epochs=6, batch_size=4, verbose=0, callbacks=[inject, stop])
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert weights_equal(task.get_weights(), inject.weights[1])


def test_early_stopping_without_improvement():
    """A learning rate of 0 keeps the loss constant: no epoch after the first improves, so
    patience 1 stops after the second epoch."""
    x, y = dataset()
    task = model(learning_rate=0.0)
    history = task.fit(x, y, epochs=10, verbose=0,
                       callbacks=[callbacks.EarlyStopping(monitor="loss", patience=1)])
    assert history.epoch == [0, 1]


def test_csv_logger_writes_the_history(tmp_path):
    x, y = dataset()
    path = tmp_path / "log.csv"
    history = model().fit(x, y, epochs=3, batch_size=4, verbose=0, validation_data=(x, y),
                          callbacks=[callbacks.CSVLogger(path)])
    with open(path) as file:
        table = list(csv.DictReader(file))
    assert list(table[0]) == ["epoch", "loss", "sparse_categorical_accuracy", "val_loss",
                              "val_sparse_categorical_accuracy"]
    assert [int(r["epoch"]) for r in table] == [0, 1, 2]
    for key, values in history.history.items():
        assert [float(r[key]) for r in table] == values


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    x, y = dataset()
    task = model(learning_rate=0.1)
    history = task.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
    assert history.history["learning_rate"] == [0.05, 0.025, 0.0125]
    assert task.optimizer.learning_rate == 0.0125


def test_model_checkpoint_saves_presets_of_the_best_epochs(tmp_path):
    x, y = dataset()
    inject = InjectScores([2.0, 3.0, 1.0])
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}"), monitor="score",
                                           mode="min", save_best_only=True)
    model().fit(x, y, epochs=3, verbose=0, callbacks=[inject, checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1", "ckpt-3"]
    saved = np.load(tmp_path / "ckpt-3" / "weights.npz")
    assert weights_equal([saved[f"arr_{i}"] for i in range(len(saved.files))], inject.weights[2])


def test_progress_output(capsys):
    x, y = dataset()
    model().fit(x, y, epochs=2, batch_size=4, verbose=1, validation_data=(x, y))
    output = capsys.readouterr().out
    assert "Epoch 1/2" in output and "3/3" in output and "val_loss: " in output
    model().fit(x, y, epochs=2, batch_size=4, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("3/3")]
    assert len(lines) == 2 and all("loss: " in line for line in lines)
    model().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_mode_auto_reads_the_metric_direction():
    x, y = dataset()
    task = model()
    stop = callbacks.EarlyStopping(monitor="val_sparse_categorical_accuracy", patience=5)
    task.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[stop])
    assert stop._lower_is_better is False
    with pytest.raises(ValueError, match="mode"):
        model().fit(x, y, epochs=1, verbose=0, callbacks=[
            InjectScores([1.0]), callbacks.EarlyStopping(monitor="score")])


def test_metrics_are_keras_metrics_of_the_batches():
    """The epoch's accuracy is the Keras running mean over the batches' predictions."""
    x, y = dataset()
    task = model(learning_rate=0.0)
    logs = task.fit(x, y, batch_size=4, verbose=0).history
    accuracy = metrics.SparseCategoricalAccuracy()
    accuracy.update_state(y, task.predict(x, verbose=0))
    assert logs["sparse_categorical_accuracy"] == [accuracy.result()]


def test_device_backend_gives_the_numpy_numbers():
    """fit / evaluate / predict under a backend whose arrays refuse to mix with host arrays (as
    CuPy's): no host-only call on the way, and the same numbers as on NumPy."""
    import minibert
    from minibert.testing import device
    device.register()
    x, y = dataset()
    texts = [f"word{i} word{i + 1} other{i}" for i in range(N)]
    results = []
    for name in ("numpy", device.NAME):
        minibert.set_backend(name)
        try:
            task = model(seed=5, metrics=["accuracy"], weighted_metrics=["accuracy"])
            task.optimizer = optimizers.AdamW(0.05, global_clipnorm=1.0)
            history = task.fit(x, y, sample_weight=np.linspace(0, 1, N), batch_size=4,
                               epochs=2, validation_split=0.2, verbose=0)
            task.preprocessor = HashingPreprocessor(V, T)
            task.fit(texts, y, batch_size=5, verbose=0)
            results.append((history.history, task.evaluate(x, y, verbose=0),
                            task.predict(x, verbose=0), snapshot(task)))
        finally:
            minibert.set_backend("numpy")
    (h0, e0, p0, w0), (h1, e1, p1, w1) = results
    assert h0 == h1 and e0 == e1 and np.array_equal(p0, p1) and weights_equal(w0, w1)
