"""The map from sample time to monotonic time, for the two places wall-clock is allowed.

The engine decides everything in sample time. Only the display (to draw at a vsync) and the
lamps (to switch a GPIO at a moment) need the matching `time.monotonic()` instant. The audio
backend feeds this map pairs of (sample index, monotonic time) taken at each period, corrected
for the device's delay; the map fits a line through the recent pairs, so the jitter of any
single period's wake-up does not reach the lamps or the streamer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class TimeFit:
    """A straight line: monotonic seconds = t0 + (sample - s0) / rate. Plain data, picklable."""

    s0: int  # samples: anchor sample index
    t0: float  # seconds: monotonic time of the anchor sample
    rate: float  # samples per second of monotonic time (the real sample rate of the ADC)

    def to_monotonic(self, sample: float) -> float:
        return self.t0 + (sample - self.s0) / self.rate

    def to_sample(self, monotonic: float) -> float:
        return self.s0 + (monotonic - self.t0) * self.rate


REFIT = 16  # points added between least-squares fits


class SampleTimeMap:
    """A least-squares fit of monotonic time against sample index over a sliding window."""

    def __init__(self, nominal_rate: int, window: int = 256) -> None:
        self.nominal_rate = nominal_rate  # samples per second, as configured
        self._points: deque[tuple[int, float]] = deque(maxlen=window)
        self._fitted: TimeFit | None = None  # the last line worked out
        self._since_fit = 0  # points added since

    def add(self, sample: int, monotonic: float) -> None:
        """Sample `sample` was (or will be) at the converter at `monotonic` seconds."""
        self._points.append((sample, monotonic))
        self._since_fit += 1

    def reset(self) -> None:
        """Forget the history (after an xrun or a device restart the old line is wrong)."""
        self._points.clear()
        self._fitted = None

    def fit(self) -> TimeFit | None:
        """The current line, or None before the first point.

        Called every audio period, so the least-squares work is done again only every
        REFIT points (about 85 ms at 256-sample periods) once the window is filling: the slope
        of a window of hundreds of points hardly moves in between, and the audio path is
        spared a fit per period. A line cached a few points ago still maps any sample.
        """
        if self._fitted is not None and len(self._points) >= 8 and self._since_fit < REFIT:
            return self._fitted
        self._since_fit = 0
        self._fitted = self._compute()
        return self._fitted

    def _compute(self) -> TimeFit | None:
        n = len(self._points)
        if n == 0:
            return None
        s0, t0 = self._points[-1]
        if n < 8:
            return TimeFit(s0, t0, float(self.nominal_rate))
        # Fit time against samples relative to the newest point (keeps the numbers small).
        xs = [s - s0 for s, _ in self._points]
        ys = [t - t0 for _, t in self._points]
        mx = sum(xs) / n
        my = sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx == 0:
            return TimeFit(s0, t0, float(self.nominal_rate))
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx  # s/sample
        rate = 1.0 / slope if slope > 0 else float(self.nominal_rate)
        # Reject a fit that says the clock is more than 1 % off: a burst of bad stamps.
        if abs(rate / self.nominal_rate - 1.0) > 0.01:
            rate = float(self.nominal_rate)
        intercept = my - mx / rate  # monotonic offset at sample s0
        return TimeFit(s0, t0 + intercept, rate)
