"""Learning-rate schedules against Keras's and Hugging Face's, step by step."""
import pytest

from minibert.training import schedules
from reference_libraries import require
from training.helpers import compare

STEPS = range(0, 40)

CASES = {
    "linear": lambda m: m.PolynomialDecay(0.1, decay_steps=25, end_learning_rate=0.001),
    "quadratic": lambda m: m.PolynomialDecay(0.1, decay_steps=25, end_learning_rate=0.0,
                                             power=2.0),
    "sqrt_cycle": lambda m: m.PolynomialDecay(0.1, decay_steps=7, end_learning_rate=0.01,
                                              power=0.5, cycle=True),
    "cosine": lambda m: m.CosineDecay(0.05, decay_steps=30),
    "cosine_alpha": lambda m: m.CosineDecay(0.05, decay_steps=30, alpha=0.2),
    "cosine_warmup": lambda m: m.CosineDecay(0.001, decay_steps=20, alpha=0.1,
                                             warmup_target=0.05, warmup_steps=10),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(case):
    keras = require("keras")
    ours, reference = CASES[case](schedules), CASES[case](keras.optimizers.schedules)
    values = [ours(step) for step in STEPS]
    expected = [float(reference(step)) for step in STEPS]
    compare(case, values, expected, 1e-6)       # Keras computes in float32


def test_polynomial_warmup_is_keras_warmup_then_keras_decay():
    """The warmup of PolynomialDecay is CosineDecay's (Keras); after it, the decay is Keras's
    PolynomialDecay shifted by warmup_steps and starting from warmup_target."""
    keras = require("keras")
    ours = schedules.PolynomialDecay(0.001, decay_steps=20, end_learning_rate=0.002, power=1.5,
                                     warmup_target=0.05, warmup_steps=8)
    warmup = keras.optimizers.schedules.CosineDecay(0.001, decay_steps=20, warmup_target=0.05,
                                                    warmup_steps=8)
    decay = keras.optimizers.schedules.PolynomialDecay(0.05, decay_steps=20,
                                                       end_learning_rate=0.002, power=1.5)
    for step in STEPS:
        expected = float(warmup(step)) if step < 8 else float(decay(step - 8))
        compare(f"step {step}", ours(step), expected, 1e-6)


def test_bert_linear_warmup_matches_hugging_face():
    """PolynomialDecay(0, total - warmup, 0, warmup_target=peak, warmup_steps=warmup) is
    transformers.get_linear_schedule_with_warmup(peak, warmup, total)."""
    torch = require("torch")
    transformers = require("transformers")
    peak, warmup, total = 3e-4, 6, 30
    ours = schedules.PolynomialDecay(0.0, decay_steps=total - warmup, end_learning_rate=0.0,
                                     warmup_target=peak, warmup_steps=warmup)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, warmup, total)
    for step in range(total + 5):
        compare(f"step {step}", ours(step), optimizer.param_groups[0]["lr"], 1e-12)
        optimizer.step()
        scheduler.step()


def test_cosine_warmup_matches_hugging_face():
    """CosineDecay(0, total - warmup, warmup_target=peak, warmup_steps=warmup) is
    transformers.get_cosine_schedule_with_warmup(peak, warmup, total)."""
    torch = require("torch")
    transformers = require("transformers")
    peak, warmup, total = 3e-4, 5, 25
    ours = schedules.CosineDecay(0.0, decay_steps=total - warmup, warmup_target=peak,
                                 warmup_steps=warmup)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    scheduler = transformers.get_cosine_schedule_with_warmup(optimizer, warmup, total)
    for step in range(total):
        compare(f"step {step}", ours(step), optimizer.param_groups[0]["lr"], 1e-12)
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize("case", sorted(CASES))
def test_serialization_round_trip(case):
    keras = require("keras")
    schedule = CASES[case](schedules)
    rebuilt = schedules.deserialize(schedules.serialize(schedule))
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == schedule.get_config()
    keras_config = CASES[case](keras.optimizers.schedules).get_config()
    assert set(keras_config) <= set(schedule.get_config())


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, decay_steps=0)
    with pytest.raises(ValueError, match="class_name"):
        schedules.deserialize({"class_name": "ExponentialDecay", "config": {}})
