"""Peak meters of the headphone mix: each source as it enters the mix, and the phones output.

Metered in sample time on the engine thread, one peak per period, with a peak-programme
fallback: a peak is held at its value and falls at FALL_DB_PER_SECOND of audio, so a monitor
polling ten times a second still sees a beep one frame long, and a level reads the same
whether the stage runs in real time or from a file. Reading (`dbfs`) is safe from another
thread: it copies the small array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

FALL_DB_PER_SECOND = 20.0  # dB a second: as fast as the monitor's peak-hold mark falls


class PeakMeters:
    """One falling peak per named signal, fed a period at a time."""

    def __init__(self, sample_rate: int, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self._fall_per_sample = 10.0 ** (-FALL_DB_PER_SECOND / 20.0 / sample_rate)
        self._held = np.zeros(len(self.names))  # linear peaks, full scale 1.0
        self._period = np.zeros(len(self.names))  # this period's peaks, filled by `mark`
        self._most = np.zeros(len(self.names))  # the highest peak since start (max hold)
        self._decay_n = -1  # the period length the cached decay is for
        self._decay = 1.0

    def mark(self, index: int, block: np.ndarray) -> None:
        """This period's peak of signal `index` (0 if the block is empty)."""
        self._period[index] = max(float(block.max()), -float(block.min())) if len(block) else 0.0

    def peak(self, index: int, value: float) -> None:
        """This period's peak of signal `index`, worked out by the caller (linear)."""
        self._period[index] = value

    def silent(self, index: int) -> None:
        self._period[index] = 0.0

    def commit(self, n: int) -> None:
        """The period of `n` samples is over: held peaks fall by its length, then rise to it."""
        if n != self._decay_n:
            self._decay_n, self._decay = n, self._fall_per_sample**n
        np.multiply(self._held, self._decay, out=self._held)
        np.maximum(self._held, self._period, out=self._held)
        np.maximum(self._most, self._period, out=self._most)

    def dbfs(self) -> dict[str, float | None]:
        """Held peak of each signal in dBFS (None for silence, which JSON cannot carry as -inf)."""
        return self._as_dbfs(self._held.copy())

    def max_dbfs(self) -> dict[str, float | None]:
        """The highest peak of each signal since start, dBFS (None: silent all along)."""
        return self._as_dbfs(self._most.copy())

    def _as_dbfs(self, held: np.ndarray) -> dict[str, float | None]:
        return {
            name: (round(20.0 * math.log10(v), 1) if v > 1e-6 else None)
            for name, v in zip(self.names, held, strict=True)
        }
