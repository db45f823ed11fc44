"""Plain PCM WAV output for simulated feeds and recorded playback (not for takes: those are
Broadcast WAVs written crash-safe by the take writer)."""

from __future__ import annotations

import os
import wave
from collections.abc import Iterable

import numpy as np

from stagebox.audio.pcmformat import encode, pcm_format


def write_pcm_wav(
    path: str | os.PathLike,
    blocks: Iterable[np.ndarray],  # float (frames, channels), full scale 1.0
    sample_rate: int,  # Hz
    channels: int,
    bits: int = 24,  # 16 or 24
) -> int:
    """Write `blocks` to a new WAV file (never overwriting one); returns the frames written.
    Samples are rounded to the nearest code and clipped."""
    if bits not in (16, 24):
        raise ValueError(f"{os.fspath(path)}: a WAV here is 16- or 24-bit PCM, not {bits}")
    fmt = pcm_format("S16_LE" if bits == 16 else "S24_3LE")
    frames = 0
    with open(path, "xb") as raw, wave.open(raw, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(fmt.width)
        out.setframerate(sample_rate)
        for block in blocks:
            x = np.asarray(block, dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != channels:
                raise ValueError(
                    f"{os.fspath(path)}: block of shape {x.shape}, not (n, {channels})"
                )
            out.writeframes(encode(x, fmt))
            frames += x.shape[0]
    return frames
