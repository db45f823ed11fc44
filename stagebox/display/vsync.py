"""When the frame being drawn now will reach the screen: a vsync phase tracker.

After each present (which blocks until the page flip on a vsync'd screen) the display loop
reports the monotonic time; the tracker keeps the refresh period and the phase, and predicts
the vsync at which the next frame will be scanned out. The display latency trim (the monitor's
own processing lag, measured once per stage with a flash-and-photodiode or a camera) is added
by the caller.
"""

from __future__ import annotations

import math


class VsyncClock:
    """Refresh period and phase from the times presents returned."""

    def __init__(self, refresh_hz: float) -> None:
        if not 10 <= refresh_hz <= 500:
            raise ValueError(f"refresh rate {refresh_hz} Hz is outside 10..500")
        self.period = 1.0 / refresh_hz  # seconds, refined from the measured presents
        self.nominal_period = self.period
        self.last: float | None = None  # monotonic seconds of the last present

    def on_present(self, monotonic: float) -> None:
        """A present returned at `monotonic` (just after a vsync)."""
        if self.last is not None:
            dt = monotonic - self.last
            n = round(dt / self.period)
            # Only intervals that look like whole refreshes refine the period (a stall or a
            # missed vsync is n > 1; a present that did not wait at all is n == 0).
            if 1 <= n <= 4 and abs(dt - n * self.period) < 0.2 * self.period:
                estimate = dt / n
                if abs(estimate / self.nominal_period - 1) < 0.05:
                    self.period += 0.05 * (estimate - self.period)
        self.last = monotonic

    def next_vsync(self, now: float) -> float:
        """The first vsync after `now` at which a frame drawn now can be shown."""
        if self.last is None:
            return now + self.period
        k = max(1, math.ceil((now - self.last) / self.period))
        return self.last + k * self.period
