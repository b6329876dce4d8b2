"""Dropout masks drawn on the pool (minibert.ops.fast.dropout) against the plain draw
``rng.random(shape) >= rate``: the same mask, bit for bit, and the generator left in the same
state, so every later draw matches too."""
import numpy as np
import pytest

from minibert.ops.fast import dropout as fast_dropout
from minibert.ops.fast import threads

CHUNK = fast_dropout.CHUNK


def _pair(bit_generator_type, seed=3):
    return (np.random.Generator(bit_generator_type(seed)),
            np.random.Generator(bit_generator_type(seed)))


@pytest.mark.parametrize("bit_generator_type", [np.random.PCG64, np.random.PCG64DXSM])
@pytest.mark.parametrize("shape", [(8, 128, 768), (2, 12, 128, 128), (5 * CHUNK + 17,)])
def test_the_mask_and_the_generator_state_are_the_plain_draws(bit_generator_type, shape):
    plain_rng, fast_rng = _pair(bit_generator_type)
    assert fast_dropout.can_jump(fast_rng)
    for rng in (plain_rng, fast_rng):                      # a buffered 32-bit half-draw
        rng.integers(0, 2**32, dtype=np.uint32)
    for rate in (0.1, 0.5):
        expected = plain_rng.random(shape) >= rate
        keep = fast_dropout.draw_keep(fast_rng, shape, rate)
        assert keep.dtype == np.bool_ and keep.shape == shape
        np.testing.assert_array_equal(keep, expected)
    assert fast_rng.bit_generator.state == plain_rng.bit_generator.state
    assert fast_rng.random() == plain_rng.random()


def test_the_draws_are_shared_over_the_pool(monkeypatch):
    """With two threads the draw is cut in two runs, the second starting mid-stream."""
    if threads.num_threads() < 2:
        monkeypatch.setenv("MINIBERT_NUM_THREADS", "2")
    starts = []
    jumped_copy = fast_dropout._jumped_copy

    def recording(bit_generator, draws):
        starts.append(draws)
        return jumped_copy(bit_generator, draws)
    monkeypatch.setattr(fast_dropout, "_jumped_copy", recording)
    plain_rng, fast_rng = _pair(np.random.PCG64)
    shape = (4 * CHUNK + 3,)
    np.testing.assert_array_equal(fast_dropout.draw_keep(fast_rng, shape, 0.1),
                                  plain_rng.random(shape) >= 0.1)
    assert len(starts) == threads.num_threads() and sorted(starts)[0] == 0
    assert sorted(starts)[1] == -(-shape[0] // threads.num_threads())


@pytest.mark.parametrize("make_rng", [
    lambda: np.random.Generator(np.random.MT19937(4)),    # cannot advance
    lambda: np.random.Generator(np.random.Philox(4)),     # advances in blocks of four draws
    lambda: np.random.Generator(np.random.PCG64(4)),      # a mask too small to split
])
def test_other_generators_and_small_masks_take_the_plain_draw(make_rng):
    plain_rng, fast_rng = make_rng(), make_rng()
    shape = (3, 1000) if fast_dropout.can_jump(fast_rng) else (8, 128, 768)
    np.testing.assert_array_equal(fast_dropout.draw_keep(fast_rng, shape, 0.2),
                                  plain_rng.random(shape) >= 0.2)
    np.testing.assert_array_equal(fast_rng.random(5), plain_rng.random(5))
