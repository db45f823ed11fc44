"""Samples in: a block of any numeric type, as the LTC decoder's float32 at full scale 1.0.

The decoder takes whatever a caller has: a capture's int16 or int32, a WAV file's own sample
type straight from its memory map, float32 or float64 from a simulator. This is the one place
that checks the block's shape and type and scales it.
"""

from __future__ import annotations

import math

import numpy as np


def to_float(block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A block as float32 at full scale 1.0 (ints by their dtype's full scale; NaN and
    infinite samples as 0), into `out` (float32, the block's length) when given.

    float32 holds 24 bits of mantissa, more than any converter delivers, and halves the
    memory traffic of every pass over the samples. Integer samples (the usual 16-bit WAV or
    capture) go straight into `out`: no block-sized temporary to allocate and copy."""
    a = as_mono(block)
    kind = a.dtype.kind
    if kind == "i":  # (one call: the cast and the scaling in one loop)
        scale = np.float32(1.0 / (1 << (8 * a.dtype.itemsize - 1)))
        return np.multiply(a, scale, dtype=np.float32, out=out)
    if kind == "f":
        a = a.astype(np.float32, copy=False)
        # NaN or infinity (a corrupt float file) would poison every sum near it: such
        # samples are silence. One BLAS dot product finds them (NaN or infinite if any
        # sample is; unlike a ufunc's sum, it raises no floating-point warning).
        if not math.isfinite(np.dot(a, a)):
            a = np.where(np.isfinite(a), a, np.float32(0.0))
    elif kind == "u":
        mid = 1 << (8 * a.dtype.itemsize - 1)
        a = (a.astype(np.float32) - np.float32(mid)) * np.float32(1.0 / mid)
    elif kind == "b":
        a = a.astype(np.float32)
    else:
        raise ValueError(f"decode wants numeric samples, not dtype {a.dtype}")
    if out is None:
        return a
    out[...] = a
    return out


def as_mono(block: np.ndarray) -> np.ndarray:
    """`block` as a 1-D array (a (n, 1) or (1, n) block flattened); ValueError otherwise."""
    a = np.asarray(block)
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise ValueError(f"decode wants a mono block (1-D), not shape {a.shape}")
    if a.dtype.kind not in "iufb":
        raise ValueError(f"decode wants numeric samples, not dtype {a.dtype}")
    return a
