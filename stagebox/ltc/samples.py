"""Samples in: a block of any numeric type, as the LTC decoder's float32 at full scale 1.0.

The decoder takes whatever a caller has: a capture's int16 or int32, a WAV file's own sample
type straight from its memory map, float32 or float64 from a simulator. This is the one place
that checks the block's shape and type and scales it.

Signed integer samples (the usual 16-bit capture or WAV) are kept by the decoder as they come
(`kept_as_is`) and scaled where they are read (`scaled`): copying int16 costs a quarter of
writing float32, and the passes over every sample (the sign of each, the peak of each frame)
read half the bytes. Scaling by a power of two is exact, so every value read is the float32
`to_float` gives, to the bit.
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
        return np.multiply(a, _full_scale(a.dtype), dtype=np.float32, out=out)
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


def kept_as_is(dtype: np.dtype) -> bool:
    """Whether the decoder keeps samples of this type as they come, scaling them only where
    it reads them: signed integers in the machine's byte order."""
    return dtype.kind == "i" and dtype.isnative


def scaled(raw: np.ndarray) -> np.ndarray:
    """Samples the decoder keeps (float32, or a type `kept_as_is`) as float32 at full scale
    1.0: the float32 ones as they are, the integers exactly as `to_float` scales them."""
    if raw.dtype == np.float32:
        return raw
    return np.multiply(raw, _full_scale(raw.dtype), dtype=np.float32)


def _full_scale(dtype: np.dtype) -> np.float32:
    """The factor from a signed integer type to full scale 1.0 (a power of two: exact)."""
    return _FULL_SCALE[dtype.itemsize]


_FULL_SCALE = {size: np.float32(1.0 / (1 << (8 * size - 1))) for size in (1, 2, 4, 8)}
