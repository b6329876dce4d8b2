"""Optimizers against Keras's own (torch backend) and torch.optim, step by step.

Every case builds the same optimizer twice from one factory, once from ``keras.optimizers`` and
once from ``minibert.optimizers`` (the argument names are the same), runs 20 steps on the same
float32 weights and gradients, and compares the weights after every step.
"""
import math
import zlib

import numpy as np
import pytest

from minibert.training import optimizers
from reference_libraries import require
from training.helpers import Holder, compare

STEPS = 20
TOLERANCE = 1e-6          # max abs error relative to max(1, weight scale)


def initial_weights(rng):
    return {"kernel": rng.normal(size=(4, 3)).astype("float32"),
            "bias": rng.normal(size=(3,)).astype("float32") * 0.1,
            "gamma": 1.0 + rng.normal(size=(3,)).astype("float32") * 0.1}


def gradient_stream(rng, weights, steps, scale=1.0):
    """Per step, one float32 gradient per weight (normal, times ``scale``)."""
    return [{name: (rng.normal(size=w.shape) * scale).astype("float32")
             for name, w in weights.items()} for _ in range(steps)]


CASES = {
    "sgd": lambda m: m.SGD(learning_rate=0.1),
    "sgd_momentum": lambda m: m.SGD(learning_rate=0.05, momentum=0.9),
    "sgd_nesterov": lambda m: m.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "sgd_global_clipnorm": lambda m: m.SGD(learning_rate=0.1, global_clipnorm=1.0),
    "sgd_polynomial_decay": lambda m: m.SGD(
        learning_rate=m.schedules.PolynomialDecay(0.2, decay_steps=15, end_learning_rate=0.01,
                                                  power=2.0)),
    "adam": lambda m: m.Adam(learning_rate=0.01),
    "adam_amsgrad": lambda m: m.Adam(learning_rate=0.01, amsgrad=True),
    "adam_clipnorm": lambda m: m.Adam(learning_rate=0.01, clipnorm=0.5),
    "adam_clipvalue": lambda m: m.Adam(learning_rate=0.01, clipvalue=0.3),
    "adam_weight_decay": lambda m: m.Adam(learning_rate=0.01, weight_decay=0.05),
    "adam_cosine_warmup": lambda m: m.Adam(
        learning_rate=m.schedules.CosineDecay(0.0, decay_steps=12, alpha=0.1,
                                              warmup_target=0.02, warmup_steps=5)),
    "adam_epsilon": lambda m: m.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=0.1),
    "adamw": lambda m: m.AdamW(learning_rate=0.01, weight_decay=0.1),
    "adamw_global_clipnorm": lambda m: m.AdamW(learning_rate=0.01, weight_decay=0.1,
                                               global_clipnorm=2.0),
}


def _exclude(optimizer, variables, exclude):
    """Exempt from weight decay what ``exclude`` names ({"var_list": [names], "var_names":
    [...]}), the same way for Keras's optimizer and ours; None exempts nothing."""
    if exclude is not None:
        optimizer.exclude_from_weight_decay(
            var_list=[variables[n] for n in exclude.get("var_list", [])],
            var_names=exclude.get("var_names"))


def run_keras(make, weights, grads, exclude=None):
    keras = require("keras")
    optimizer = make(keras.optimizers)
    variables = {name: keras.Variable(value, name=name) for name, value in weights.items()}
    _exclude(optimizer, variables, exclude)
    history = []
    for step_grads in grads:
        optimizer.apply([None if step_grads[n] is None else
                         keras.ops.convert_to_tensor(step_grads[n]) for n in variables],
                        list(variables.values()))
        history.append({n: keras.ops.convert_to_numpy(v.value) for n, v in variables.items()})
    return history, optimizer


def run_ours(make, weights, grads, exclude=None):
    optimizer = make(optimizers)
    holder = Holder(weights)
    variables = {v.name: v for v in holder.variables}
    _exclude(optimizer, variables, exclude)
    history = []
    for step_grads in grads:
        optimizer.apply([step_grads.get(n) for n in variables], list(variables.values()))
        history.append({n: v.numpy().copy() for n, v in variables.items()})
    return history, optimizer


def compare_histories(ours, reference, case):
    for step, (mine, theirs) in enumerate(zip(ours, reference)):
        for name in theirs:
            compare(f"{case} step {step + 1} {name}", mine[name], theirs[name], TOLERANCE)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(case):
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    weights = initial_weights(rng)
    grads = gradient_stream(rng, weights, STEPS, scale=2.0)     # large enough to clip
    reference, keras_optimizer = run_keras(CASES[case], weights, grads)
    ours, optimizer = run_ours(CASES[case], weights, grads)
    compare_histories(ours, reference, case)
    assert optimizer.iterations == int(keras_optimizer.iterations) == STEPS
    compare(f"{case} learning_rate", optimizer.learning_rate,
            float(keras_optimizer.learning_rate), 1e-7)


@pytest.mark.parametrize("exclude", [{"var_names": ["bias", "gamma"]},
                                     {"var_list": ["kernel"]},
                                     {"var_list": ["gamma"], "var_names": ["bias"]}])
def test_adamw_exclusion_matches_keras(exclude):
    rng = np.random.default_rng(7)
    weights = initial_weights(rng)
    grads = gradient_stream(rng, weights, STEPS)
    make = CASES["adamw"]
    reference, _ = run_keras(make, weights, grads, exclude)
    ours, _ = run_ours(make, weights, grads, exclude)
    compare_histories(ours, reference, f"adamw exclude {exclude}")
    # The exclusion matters: without it the excluded weights end elsewhere.
    plain, _ = run_ours(make, weights, grads)
    excluded = set(exclude.get("var_list", [])) | {
        n for n in weights for p in exclude.get("var_names", []) if p in n}
    for name in excluded:
        assert np.abs(plain[-1][name] - ours[-1][name]).max() > 1e-4, name


def test_missing_gradient_leaves_the_weight_alone_as_keras():
    """A weight with no gradient on some steps (Keras's torch trainer passes None) is neither
    updated nor decayed on those steps; the others are."""
    rng = np.random.default_rng(3)
    weights = initial_weights(rng)
    grads = gradient_stream(rng, weights, STEPS)
    for step in range(0, STEPS, 3):
        grads[step]["gamma"] = None
    make = CASES["adamw"]
    reference, _ = run_keras(make, weights, grads)
    with pytest.warns(UserWarning, match="no gradient"):
        ours, _ = run_ours(make, weights, grads)
    compare_histories(ours, reference, "adamw with missing gradients")


def test_adamw_matches_torch_adamw():
    """torch.optim.AdamW decays as Keras (w *= 1 - lr * wd, before the Adam step) but adds
    eps after the bias correction of v; with eps_torch = eps / sqrt(1 - beta_2^t) at step t
    the two updates are the same formula. A warmup-cosine schedule drives both."""
    torch = require("torch")
    rng = np.random.default_rng(11)
    weights = initial_weights(rng)
    grads = gradient_stream(rng, weights, STEPS)
    schedule = optimizers.schedules.CosineDecay(0.0, decay_steps=15, warmup_target=0.03,
                                                warmup_steps=4)
    epsilon, beta_2, weight_decay = 1e-3, 0.99, 0.2
    ours, _ = run_ours(lambda m: m.AdamW(learning_rate=schedule, weight_decay=weight_decay,
                                         beta_2=beta_2, epsilon=epsilon), weights, grads)
    params = {n: torch.nn.Parameter(torch.tensor(w)) for n, w in weights.items()}
    optimizer = torch.optim.AdamW(params.values(), lr=0.0, betas=(0.9, beta_2), eps=epsilon,
                                  weight_decay=weight_decay)
    for step, step_grads in enumerate(grads):
        group = optimizer.param_groups[0]
        group["lr"] = schedule(step)
        group["eps"] = epsilon / math.sqrt(1.0 - beta_2 ** (step + 1))
        for name, param in params.items():
            param.grad = torch.tensor(step_grads[name])
        optimizer.step()
        for name, param in params.items():
            compare(f"AdamW vs torch step {step + 1} {name}", ours[step][name],
                    param.detach().numpy(), TOLERANCE)


def test_adam_epsilon_placement_differs_from_torch():
    """With the same eps in both places the updates differ while sqrt(v) ~ eps: the
    convention difference the AdamW test corrects for is real."""
    torch = require("torch")
    rng = np.random.default_rng(12)
    weights = {"kernel": rng.normal(size=(4, 3)).astype("float32")}
    grads = gradient_stream(rng, weights, 3, scale=1e-3)
    ours, _ = run_ours(lambda m: m.Adam(learning_rate=0.01, epsilon=1e-3), weights, grads)
    param = torch.nn.Parameter(torch.tensor(weights["kernel"]))
    optimizer = torch.optim.Adam([param], lr=0.01, eps=1e-3)
    for step_grads in grads:
        param.grad = torch.tensor(step_grads["kernel"])
        optimizer.step()
    assert np.abs(ours[-1]["kernel"] - param.detach().numpy()).max() > 1e-4


def test_sgd_momentum_matches_torch_sgd():
    """Keras's velocity form and PyTorch's buffer form give the same weights for a constant
    learning rate (v_keras = -lr * b_torch)."""
    torch = require("torch")
    rng = np.random.default_rng(13)
    weights = initial_weights(rng)
    grads = gradient_stream(rng, weights, STEPS)
    for nesterov in (False, True):
        ours, _ = run_ours(lambda m: m.SGD(learning_rate=0.05, momentum=0.9, nesterov=nesterov),
                           weights, grads)
        params = {n: torch.nn.Parameter(torch.tensor(w)) for n, w in weights.items()}
        optimizer = torch.optim.SGD(params.values(), lr=0.05, momentum=0.9, nesterov=nesterov)
        for step_grads in grads:
            for name, param in params.items():
                param.grad = torch.tensor(step_grads[name])
            optimizer.step()
        for name, param in params.items():
            compare(f"SGD nesterov={nesterov} {name}", ours[-1][name], param.detach().numpy(),
                    TOLERANCE)


def test_loss_scale_optimizer_matches_keras():
    """Skips and halves on non-finite gradients, doubles after dynamic_growth_steps finite
    ones; the inner optimizer's iterations count only the applied steps."""
    rng = np.random.default_rng(5)
    weights = initial_weights(rng)
    grads = gradient_stream(rng, weights, STEPS, scale=2.0 ** 10)
    for step in (2, 3, 11):
        grads[step]["kernel"][1, 2] = np.inf if step != 3 else np.nan

    def make(m):
        return m.LossScaleOptimizer(m.Adam(learning_rate=0.01), initial_scale=2.0 ** 10,
                                    dynamic_growth_steps=3)

    reference, keras_optimizer = run_keras(make, weights, grads)
    ours, optimizer = run_ours(make, weights, grads)
    compare_histories(ours, reference, "LossScaleOptimizer")
    assert optimizer.dynamic_scale == float(keras_optimizer.dynamic_scale)
    assert optimizer.iterations == int(keras_optimizer.iterations) == STEPS - 3
    assert optimizer.step_counter == int(keras_optimizer.step_counter)
    assert optimizer.scale_loss(1.0) == optimizer.dynamic_scale


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_and_keras_names(case):
    keras = require("keras")
    optimizer = CASES[case](optimizers)
    config = optimizer.get_config()
    rebuilt = type(optimizer).from_config(config)
    assert rebuilt.get_config() == config
    keras_config = CASES[case](keras.optimizers).get_config()
    for key, value in config.items():
        assert key in keras_config, key
        if key not in ("name", "learning_rate"):
            assert value == keras_config[key], key


def test_state_is_per_variable_and_only_for_what_was_stepped():
    rng = np.random.default_rng(0)
    weights = initial_weights(rng)
    holder = Holder(weights)
    kernel, bias, gamma = holder.variables
    optimizer = optimizers.Adam()
    optimizer.apply([np.ones((4, 3), "float32"), np.ones(3, "float32")], [kernel, bias])
    assert len(optimizer.variables) == 4                   # m and v of two variables
    bias_before = bias.numpy().copy()
    optimizer.apply([np.ones((4, 3), "float32"), np.full(3, 2.0, "float32")], [kernel, gamma])
    assert len(optimizer.variables) == 6
    assert np.array_equal(bias.numpy(), bias_before)       # not in this step: untouched
    assert all(a.dtype == np.float32 for a in optimizer.variables)


def test_updates_are_in_place():
    holder = Holder({"kernel": np.ones((2, 2), "float32")})
    (kernel,) = holder.variables
    array = kernel.value
    optimizers.SGD(0.5).apply([np.ones((2, 2), "float32")], [kernel])
    assert kernel.value is array
    assert np.array_equal(array, np.full((2, 2), 0.5, "float32"))


def test_half_precision_weights_keep_float32_state():
    """A float16 weight is updated in float32 and rounded once: after one step it equals the
    float32 result rounded to float16, and the moments are float32."""
    rng = np.random.default_rng(1)
    value = rng.normal(size=(8,)).astype("float16")
    grad = (rng.normal(size=(8,)) * 1e-3).astype("float32")
    half = Holder({"kernel": value}, dtype="float16").variables[0]
    full = Holder({"kernel": value.astype("float32")}).variables[0]
    half_optimizer, full_optimizer = optimizers.Adam(1e-3), optimizers.Adam(1e-3)
    half_optimizer.apply([grad], [half])
    full_optimizer.apply([grad], [full])
    assert half.value.dtype == np.float16
    assert np.array_equal(half.numpy(), full.numpy().astype("float16"))
    assert all(a.dtype == np.float32 for a in half_optimizer.variables)


def test_argument_errors():
    with pytest.raises(ValueError, match="only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    optimizer = optimizers.Adam(optimizers.schedules.CosineDecay(0.1, 10))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        optimizer.learning_rate = 0.01
    optimizer.apply([np.ones(3, "float32")], [Holder({"b": np.zeros(3, "float32")}).variables[0]])
    with pytest.raises(ValueError, match="before"):
        optimizer.exclude_from_weight_decay(var_names=["bias"])
