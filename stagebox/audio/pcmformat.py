"""Sample formats a sound card speaks, converted to and from float32 (full scale 1.0).

Integer samples map to float by dividing by 2^(bits-1), so -1.0 is the most negative code and
every 16- and 24-bit code converts to float32 and back unchanged (float32 carries 24 bits of
mantissa). 32-bit codes keep their top 24 bits in float32, which is what a 24-bit ADC sends in
a 32-bit container anyway. Float to integer rounds to the nearest code and clips.

Formats (ALSA names): S16_LE, S24_LE (24 bits in the low three bytes of four), S32_LE and
S24_3LE (24 bits packed in three bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PCMFormat:
    """One ALSA sample format: its name, size in bytes and significant bits."""

    name: str  # ALSA's name, e.g. "S24_3LE"
    width: int  # bytes per sample in memory
    bits: int  # significant bits

    @property
    def scale(self) -> float:
        """Integer code of +1.0 (one past the largest positive code)."""
        return float(1 << (self.bits - 1))

    def frame_bytes(self, channels: int) -> int:
        return self.width * channels


FORMATS: dict[str, PCMFormat] = {
    f.name: f
    for f in (
        PCMFormat("S16_LE", 2, 16),
        PCMFormat("S24_LE", 4, 24),
        PCMFormat("S32_LE", 4, 32),
        PCMFormat("S24_3LE", 3, 24),
    )
}


def pcm_format(name: str) -> PCMFormat:
    """The format called `name` (case-insensitive), or a ValueError listing the known ones."""
    fmt = FORMATS.get(str(name).strip().upper())
    if fmt is None:
        raise ValueError(f"unknown sample format {name!r} (known: {', '.join(FORMATS)})")
    return fmt


def decode(data: bytes | bytearray | memoryview, fmt: PCMFormat, channels: int) -> np.ndarray:
    """Interleaved sample bytes -> float32 (frames, channels). Trailing partial frames are an
    error: they mean the caller lost track of the frame size."""
    frame = fmt.frame_bytes(channels)
    if len(data) % frame:
        raise ValueError(
            f"{len(data)} bytes is not a whole number of {fmt.name} frames of {channels} channels"
        )
    raw = np.frombuffer(data, dtype=np.uint8)
    if fmt.name == "S16_LE":
        codes = raw.view("<i2").astype(np.int32)
    elif fmt.name == "S32_LE":
        codes = raw.view("<i4")
    elif fmt.name == "S24_LE":
        # The top byte of the container is padding (ALSA does not promise its value):
        # shift it out, then back with sign extension.
        codes = (raw.view("<i4") << 8) >> 8
    else:  # S24_3LE: put the three bytes in the top of an int32, shift down with sign.
        cells = raw.reshape(-1, 3)
        wide = np.zeros((cells.shape[0], 4), dtype=np.uint8)
        wide[:, 1:] = cells
        codes = wide.view("<i4")[:, 0] >> 8
    out = codes.astype(np.float32)
    out /= np.float32(fmt.scale)
    return out.reshape(-1, channels)


def encode(samples: np.ndarray, fmt: PCMFormat) -> bytes:
    """float (frames, channels), full scale 1.0 -> interleaved sample bytes, rounded and
    clipped to the format's codes."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    top = fmt.scale - 1.0
    codes = np.clip(np.rint(x * fmt.scale), -fmt.scale, top).astype(np.int32)
    if fmt.name == "S16_LE":
        return codes.astype("<i2").tobytes()
    if fmt.name in ("S32_LE", "S24_LE"):
        return codes.astype("<i4").tobytes()  # S24_LE: sign-extended into the top byte
    wide = codes.astype("<i4").view(np.uint8).reshape(-1, 4)
    return wide[:, :3].tobytes()  # S24_3LE: the low three bytes
