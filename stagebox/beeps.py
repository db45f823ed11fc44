"""ADR beeps: the countdown the actor hears before the line.

By default three 1 kHz beeps, one frame long, at -20 dBFS, at TC-in minus 3, 2 and 1 seconds;
the line starts on the silent fourth. Each beep is placed in sample time on the frame boundary
of its label (TC-in minus N seconds of frames), and mixed into the headphone feed so that it
lands on that sample at the actor's ear: the playback latency is compensated by the engine,
which renders the headphone block for capture-time samples.

A 1 ms raised-cosine fade at each end keeps the beep from clicking; the beep's nominal start
(the sample reported in events) is the start of the fade-in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stagebox.timecode import Timecode


@dataclass(frozen=True)
class BeepSettings:
    enabled: bool = True
    count: int = 3  # beeps before TC-in
    spacing_seconds: float = 1.0  # between beeps, and from the last beep to TC-in
    frequency_hz: float = 1000.0
    length_frames: float = 1.0  # each beep lasts this many frames
    level_dbfs: float = -20.0  # peak
    beep_at_tc_in: bool = False  # a fourth beep on TC-in itself

    def __post_init__(self) -> None:
        if not 0 <= self.count <= 10:
            raise ValueError(f"beep count {self.count} outside 0..10")
        if not 0.1 <= self.spacing_seconds <= 5:
            raise ValueError(f"beep spacing {self.spacing_seconds} s outside 0.1..5")
        if not 20 <= self.frequency_hz <= 20000:
            raise ValueError(f"beep frequency {self.frequency_hz} Hz outside 20..20000")
        if not 0.1 <= self.length_frames <= 25:
            raise ValueError(f"beep length {self.length_frames} frames outside 0.1..25")
        if not -60 <= self.level_dbfs <= 0:
            raise ValueError(f"beep level {self.level_dbfs} dBFS outside -60..0")


@dataclass(frozen=True)
class Beep:
    """One planned beep."""

    number: int  # 1 = first (earliest) beep; count + 1 = the optional one on TC-in
    sample: int  # samples: capture-time start
    length: int  # samples


def beep_labels(tc_in: Timecode, settings: BeepSettings) -> list[tuple[int, Timecode]]:
    """(number, label) of each beep before `tc_in`, earliest first.

    Spacing is counted in frame labels (N seconds = N x the rate's labels per second), the
    way ADR beeps are laid out in a DAW, so every beep starts on a frame boundary.
    """
    if not settings.enabled:
        return []
    step = max(1, round(settings.spacing_seconds * tc_in.rate.nominal))  # frames
    labels = [(i + 1, tc_in - step * (settings.count - i)) for i in range(settings.count)]
    if settings.beep_at_tc_in:
        labels.append((settings.count + 1, tc_in))
    return labels


class BeepPlayer:
    """Holds planned beeps and mixes them into headphone blocks in capture-sample time."""

    def __init__(self, sample_rate: int, settings: BeepSettings) -> None:
        self.sample_rate = sample_rate
        self.settings = settings
        self._fade = max(1, round(0.001 * sample_rate))  # samples: 1 ms
        self._planned: list[Beep] = []

    @property
    def amplitude(self) -> float:
        """Peak of the tone, full scale 1.0 (from `settings`, which a reload may replace)."""
        return 10.0 ** (self.settings.level_dbfs / 20.0)

    def plan(self, beep: Beep) -> None:
        self._planned.append(beep)

    def cancel_after(self, sample: int) -> None:
        """Drop beeps that start at or after `sample` (the pass ended, the loop wrapped)."""
        self._planned = [b for b in self._planned if b.sample < sample]

    def sounds_in(self, start: int, n: int) -> bool:
        """Whether any planned beep sounds in samples [start, start + n) (most periods: none,
        and the headphone mix then skips the beeps)."""
        end = start + n
        return any(b.sample < end and b.sample + b.length > start for b in self._planned)

    def render(self, start: int, n: int, out: np.ndarray | None = None) -> np.ndarray:
        """Mix the beeps that sound in samples [start, start + n) into `out` (mono float32)."""
        if out is None:
            out = np.zeros(n, dtype=np.float32)
        end = start + n
        keep = []
        for beep in self._planned:
            b_end = beep.sample + beep.length
            if b_end <= start:
                continue  # finished: forget it
            keep.append(beep)
            if beep.sample >= end:
                continue
            lo = max(start, beep.sample)
            hi = min(end, b_end)
            t = np.arange(lo - beep.sample, hi - beep.sample)  # samples into the beep
            tone = np.sin(2 * math.pi * self.settings.frequency_hz / self.sample_rate * t)
            envelope = np.ones(t.size)
            fade_in = t < self._fade
            envelope[fade_in] = 0.5 - 0.5 * np.cos(math.pi * t[fade_in] / self._fade)
            tail = beep.length - 1 - t
            fade_out = tail < self._fade
            envelope[fade_out] = np.minimum(
                envelope[fade_out], 0.5 - 0.5 * np.cos(math.pi * tail[fade_out] / self._fade)
            )
            out[lo - start : hi - start] += (self.amplitude * tone * envelope).astype(np.float32)
        self._planned = keep
        return out
