import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import layer_norm_backward, layer_norm_forward
from ops.checks import SETTINGS, check_op
from reference_libraries import require


def _backward(dy, cache):
    dx, dgamma, dbeta = layer_norm_backward(dy, cache)
    return {"x": dx, "gamma": dgamma, "beta": dbeta}


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), lead=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       hidden=st.integers(4, 8), epsilon=st.sampled_from([1e-12, 1e-5]))
def test_layer_norm_gradients(seed, lead, hidden, epsilon):
    # dx is rstd times dy*gamma projected onto the (hidden - 2)-dimensional complement of
    # span{1, xhat}. With hidden = 2 that space is empty (dx ~ 0), with 3 it is one direction that
    # r can nearly miss; either way dx can sink to the finite-difference noise floor (~1e-10) and
    # the relative error would compare noise with noise. hidden >= 4 avoids that.
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.normal(size=(*lead, hidden)) * rng.uniform(0.5, 3.0) + rng.normal(),
              "gamma": rng.normal(size=hidden), "beta": rng.normal(size=hidden)}
    check_op(lambda x, gamma, beta: layer_norm_forward(x, gamma, beta, epsilon), _backward,
             inputs, rng, 1e-7)


def test_layer_norm_forward_matches_torch():
    torch = require("torch")
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(2, 5, 8)) * 3 + 1, rng.normal(size=8), rng.normal(size=8)
    for epsilon in (1e-12, 1e-5):
        y, _ = layer_norm_forward(x, gamma, beta, epsilon)
        expected = torch.nn.functional.layer_norm(torch.from_numpy(x), (8,), torch.from_numpy(gamma),
                                                  torch.from_numpy(beta), epsilon).numpy()
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_layer_norm_float16_computes_in_float32():
    torch = require("torch")
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(3, 16)) * 4 + 100).astype(np.float16)   # large mean: float16 stats would fail
    gamma, beta = np.ones(16, np.float32), np.zeros(16, np.float32)
    y, cache = layer_norm_forward(x, gamma, beta, 1e-5)
    assert y.dtype == np.float16
    expected = torch.nn.functional.layer_norm(torch.from_numpy(x.astype(np.float32)), (16,),
                                              eps=1e-5).half().numpy()
    # Both round a float32 result to float16: at most one float16 ulp apart. Statistics taken in
    # float16 would be off by several ulps (x's spacing near 100 is 1/16).
    assert (np.abs(y.astype(np.float32) - expected) <= np.spacing(np.abs(expected))).all()
    dx, dgamma, dbeta = layer_norm_backward(np.ones_like(y), cache)
    assert dx.dtype == np.float16 and dgamma.dtype == np.float32 and dbeta.dtype == np.float32


def test_layer_norm_flags_skip_work():
    rng = np.random.default_rng(2)
    y, cache = layer_norm_forward(rng.normal(size=(2, 4)), np.ones(4), np.zeros(4), 1e-5)
    dx, dgamma, dbeta = layer_norm_backward(y, cache, param_grads=False)
    assert dx.shape == (2, 4) and dgamma is None and dbeta is None
    dx, dgamma, dbeta = layer_norm_backward(y, cache, input_grad=False)
    assert dx is None and dgamma.shape == (4,) and dbeta.shape == (4,)
