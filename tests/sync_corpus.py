"""A sync test corpus with ground truth: lines spoken by espeak-ng, placed word by word.

Each word is synthesised on its own (espeak-ng, Debian package `espeak-ng`), trimmed to where
its sound starts and ends, and resampled to 48 kHz. A *guide* is the words of a line laid
end to end with pauses; a *take* is the same words (the guide's voice or another voice)
laid at the guide's word onsets plus a known offset per word. So the truth is exact: word k
of the take starts `offsets[k]` seconds after word k of the guide. Takes get room noise and
level changes on top, as a booth microphone would.

Kept small (one line of nine words, a handful of voices): building it costs well under a
second of CPU, and the `sync_corpus` fixture in conftest.py builds it once a session.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import lfilter, resample_poly

from stagebox.wavfile import read_wav

RATE = 48000  # Hz
LINE = ("never", "again", "will", "I", "trust", "the", "river", "at", "night")
GAPS_S = (0.12, 0.30, 0.12, 0.15, 0.12, 0.12, 0.45, 0.12)  # pauses after words 0..7
HANDLE_S = 0.6  # silence before the first word and after the last
VOICES = ("en", "en-us+f3", "en+m3", "en-us+f2")
SPEEDS = (140, 175)  # words per minute


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.cache
def word_audio(word: str, voice: str, speed: int) -> np.ndarray:
    """One word as float64 at 48 kHz, trimmed to its sound (-45 dB re its peak)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "w.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), word],
            check=True,
            capture_output=True,
        )
        # espeak-ng leaves streaming sizes in its header; the tolerant reader takes what is there.
        pcm = read_wav(out).samples[:, 0].astype(np.float64)
    x = resample_poly(pcm, 320, 147)  # 22050 -> 48000 Hz
    env = np.sqrt(np.convolve(x * x, np.ones(240) / 240, mode="same"))
    loud = np.flatnonzero(env > env.max() * 10 ** (-45 / 20))
    return x[loud[0] : loud[-1] + 1]


@dataclass(frozen=True)
class Line:
    """A line laid out in time: the audio and where each word starts (s from sample 0)."""

    audio: np.ndarray  # float64 mono at RATE
    onsets: tuple[float, ...]  # s
    durations: tuple[float, ...]  # s


def guide_line(voice: str, speed: int, gaps: tuple[float, ...] = GAPS_S) -> Line:
    """The words of LINE end to end with `gaps`, after a handle."""
    words = [word_audio(w, voice, speed) for w in LINE]
    onsets, t = [], HANDLE_S
    for k, w in enumerate(words):
        onsets.append(t)
        t += len(w) / RATE + (gaps[k] if k < len(gaps) else 0.0)
    return _lay(words, onsets, t + HANDLE_S)


def take_line(
    guide: Line, voice: str, speed: int, offsets: list[float] | tuple[float, ...]
) -> Line:
    """LINE spoken by `voice` with word k starting at guide onset k + offsets[k] (s)."""
    words = [word_audio(w, voice, speed) for w in LINE]
    onsets = [g + d for g, d in zip(guide.onsets, offsets, strict=True)]
    return _lay(words, onsets, len(guide.audio) / RATE)


def _lay(words, onsets, total_s: float) -> Line:
    n = round(total_s * RATE)
    out = np.zeros(n)
    for w, t in zip(words, onsets, strict=True):
        i = round(t * RATE)
        seg = w[: max(0, n - i)]
        out[i : i + len(seg)] += seg
    return Line(out, tuple(onsets), tuple(len(w) / RATE for w in words))


def room(audio: np.ndarray, seed: int, noise_dbfs: float = -55.0, gain_db=(0.0, -8.0)):
    """Booth microphone: pink-ish room noise and a level that changes across the take."""
    rng = np.random.default_rng(seed)
    white = rng.normal(size=len(audio))
    pink = lfilter(
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
        white,
    )
    pink *= 10 ** (noise_dbfs / 20) / (np.sqrt(np.mean(pink**2)) + 1e-12)
    ramp = 10 ** (np.linspace(gain_db[0], gain_db[1], len(audio)) / 20)
    return audio * ramp + pink


def truth_offset(guide: Line, offsets) -> float:
    """The overall offset as the scorer defines it: the median over the guide's speech time
    of each moment's offset (each word's frames carry that word's offset)."""
    weights = np.array(guide.durations)
    order = np.argsort(offsets)
    cum = np.cumsum(weights[order])
    k = int(np.searchsorted(cum, cum[-1] / 2))
    return float(np.asarray(offsets)[order][k])
