"""Dropout masks drawn on every core: the plain op's masks, bit for bit.

The plain op (``minibert.ops.dropout.dropout_forward``) draws ``keep = rng.random(shape) >= rate``:
one float64 per element, in order, from the layer's generator, on one core, through a float64
array twice the size of the activations. On BERT base at 8 x 128 that is about 2.5 ns per
element and 100 ms per training step, while the other core waits.

NumPy's default bit generator (PCG64) can jump: ``advance(n)`` moves its state past n draws of
64 bits, one float64 each, in a few microseconds. So the draws are cut into one run per thread; each thread copies the
generator's state, advances the copy to its run's first draw, and draws its run in cache-sized
chunks, each compared with ``rate`` while it is still in the cache. Finally the layer's own
generator is advanced past every draw. The mask, and the generator's state afterwards, are the
plain draw's (tests/ops/test_fast_dropout.py), so seeded runs repeat exactly with the fast
paths on or off.
"""
import numpy as np

from minibert.ops.fast import threads

#: Draws per chunk: 64K float64 values (512 KB) stay in a core's cache until compared.
CHUNK = 65536


#: Bit generators whose ``advance(n)`` skips exactly n draws of 64 bits, one float64 each
#: (Philox's counts blocks of four).
_JUMPABLE = (np.random.PCG64, np.random.PCG64DXSM)


def can_jump(rng):
    """True if ``rng`` is a NumPy Generator on a bit generator ``draw_keep`` can jump."""
    return isinstance(rng, np.random.Generator) and isinstance(rng.bit_generator, _JUMPABLE)


def _advance(bit_generator, draws):
    """Move ``bit_generator`` past ``draws`` float64 draws. ``advance`` also drops a buffered
    32-bit half-draw, which drawing float64 values keeps: it is put back."""
    before = bit_generator.state
    bit_generator.advance(draws)
    after = bit_generator.state
    after["has_uint32"], after["uinteger"] = before["has_uint32"], before["uinteger"]
    bit_generator.state = after


def _jumped_copy(bit_generator, draws):
    """A new Generator on a copy of ``bit_generator``'s state, moved ``draws`` draws ahead."""
    copy = type(bit_generator)(0)
    copy.state = bit_generator.state
    _advance(copy, draws)
    return np.random.Generator(copy)


def draw_keep(rng, shape, rate):
    """keep = rng.random(shape) >= rate (bool, ``shape``), with ``rng`` left where that draw
    leaves it. A NumPy generator that can jump draws on the pool; anything else (a CuPy
    generator, other bit generators, small masks) runs the plain expression."""
    size = int(np.prod(shape))
    if not (can_jump(rng) and threads.uses_pool(np) and size >= 2 * CHUNK):
        return rng.random(shape) >= rate
    keep = np.empty(shape, dtype=bool)
    flat = keep.reshape(-1)                                # (size,) view
    bit_generator = rng.bit_generator

    def run(start, stop):
        generator = _jumped_copy(bit_generator, start)
        draws = np.empty(min(CHUNK, stop - start))         # (chunk,) float64
        for first in range(start, stop, CHUNK):
            last = min(first + CHUNK, stop)
            chunk = draws[:last - first]
            generator.random(out=chunk)
            np.greater_equal(chunk, rate, out=flat[first:last])
    per_thread = -(-size // threads.num_threads())
    threads.parallel_for(np, size, per_thread, run)
    _advance(bit_generator, size)
    return keep
