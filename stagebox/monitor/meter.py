"""Input level meters: dBFS on a linear-in-dB bar, with a peak hold the eye can catch."""

from __future__ import annotations

import math
from collections.abc import Sequence

FLOOR_DBFS = -60.0  # dBFS at the empty end of the bar; 0 dBFS is the full end
HOLD_SECONDS = 1.5  # a peak stays marked this long before it falls
FALL_DB_PER_SECOND = 20.0  # then the mark falls this fast, never below the level
CLIP_DBFS = -0.1  # at or above: the channel shows CLIP
ZONES = ((-18.0, "green"), (-6.0, "yellow"), (math.inf, "red"))  # colour below each bound


def level(value: float | None) -> float:
    """A level from the service as a float; None, NaN and -inf (silence) read as -inf."""
    if value is None:
        return -math.inf
    value = float(value)
    return -math.inf if math.isnan(value) else value


def cells_lit(dbfs: float | None, cells: int) -> int:
    """How many of `cells` a level fills: linear in dB from FLOOR_DBFS (none) to 0 (all)."""
    value = level(dbfs)
    if value <= FLOOR_DBFS:
        return 0
    share = min(1.0, (value - FLOOR_DBFS) / -FLOOR_DBFS)
    return int(round(share * cells))


def cell_dbfs(index: int, cells: int) -> float:
    """The level at the middle of cell `index` (0-based): the zone it is coloured by."""
    return FLOOR_DBFS + (index + 0.5) * (-FLOOR_DBFS) / cells


def zone(dbfs: float) -> str:
    for bound, colour in ZONES:
        if dbfs <= bound:
            return colour
    return ZONES[-1][1]


class PeakHold:
    """The held peak per channel across polls: the highest recent level, held, then falling."""

    def __init__(self, hold: float = HOLD_SECONDS, fall: float = FALL_DB_PER_SECOND) -> None:
        self.hold = hold  # seconds
        self.fall = fall  # dB per second
        self._peaks: list[float] = []
        self._since: list[float] = []  # monotonic time each peak was set
        self._last = 0.0

    def update(self, levels: Sequence[float | None], now: float) -> list[float]:
        """Feed one poll's levels at monotonic time `now`; returns the held peaks."""
        values = [level(v) for v in levels]
        if len(values) != len(self._peaks):  # channel count changed (service restarted)
            self._peaks = list(values)
            self._since = [now] * len(values)
            self._last = now
            return list(self._peaks)
        step = max(0.0, now - self._last)
        self._last = now
        for i, value in enumerate(values):
            if value >= self._peaks[i]:
                self._peaks[i] = value
                self._since[i] = now
            elif now - self._since[i] > self.hold:
                self._peaks[i] = max(value, self._peaks[i] - self.fall * step)
        return list(self._peaks)
