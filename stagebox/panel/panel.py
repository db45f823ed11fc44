"""The front panel's refresh thread: the latest snapshot, drawn 5-10 times a second.

`publish(snapshot)` only stores a reference (the engine never waits; an older snapshot not yet
drawn is simply dropped). The thread draws the newest one, extrapolating its timecode to the
moment of drawing, and sends it to the device. A missing or failing device costs one warning
naming the bus and address; the panel then retries every `retry_seconds` and says so in the log
when it comes back. Nothing the panel does can stop the service.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from stagebox.panel import layout
from stagebox.panel.ssd1306 import CONTROLLERS, DEFAULT_ADDRESS, DEFAULT_BUS, OLED, PanelError
from stagebox.snapshot import StageSnapshot
from stagebox.worker import Worker

log = logging.getLogger("stagebox.panel")

DEVICES = (*CONTROLLERS, "sim")


def open_panel_device(name: str, bus_number: int = DEFAULT_BUS, address: int = DEFAULT_ADDRESS):
    """The panel device called `name`: "ssd1306" or "sh1106" (real, I2C) or "sim". No fallback."""
    if name in CONTROLLERS:
        return OLED(bus_number=bus_number, address=address, controller=name)
    if name == "sim":
        from stagebox.panel.sim import SimPanel

        return SimPanel()
    raise PanelError(f"unknown front panel device {name!r} (devices: {', '.join(DEVICES)})")


class FrontPanel(Worker):
    """Draws the latest published snapshot on `device` at `refresh_hz`, on its own thread."""

    name = "stagebox-panel"
    label = "the front panel thread"
    error_class = PanelError

    def __init__(
        self,
        device,
        *,
        refresh_hz: float = 8.0,  # refreshes per second: 5-10 keeps frames readable on I2C
        retry_seconds: float = 10.0,  # seconds between attempts to reach a missing panel
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 5.0 <= refresh_hz <= 10.0:
            raise PanelError(f"front panel refresh {refresh_hz} Hz is outside 5..10 Hz")
        if retry_seconds <= 0:
            raise PanelError(f"front panel retry {retry_seconds} s must be positive")
        self.device = device
        self.period = 1.0 / refresh_hz  # seconds
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._latest: StageSnapshot | None = None
        super().__init__()
        self._retry_at = 0.0  # monotonic seconds: no attempt before this after a failure
        self._failing = False
        self.refreshes = 0

    def publish(self, snapshot: StageSnapshot) -> None:
        """Hand over the newest snapshot; never blocks (a reference store is atomic)."""
        self._latest = snapshot

    def step(self, now: float | None = None) -> bool:
        """Draw the latest snapshot at monotonic `now` and send it. False if not shown."""
        now = self.clock() if now is None else now
        snapshot = self._latest
        if snapshot is None or now < self._retry_at:
            return False
        try:
            self.device.show(layout.render(snapshot, now))
        except (PanelError, OSError) as exc:
            self._retry_at = now + self.retry_seconds
            if not self._failing:
                log.warning(
                    "front panel: %s; carrying on without it, retrying every %g s",
                    exc,
                    self.retry_seconds,
                )
                self._failing = True
            else:
                log.debug("front panel still unreachable: %s", exc)
            return False
        if self._failing:
            log.info("front panel on %s is back", self.device.describe)
            self._failing = False
        self.refreshes += 1
        return True

    def run(self) -> None:
        next_at = self.clock()
        while not self.stopping.is_set():
            try:
                self.step()
            except Exception:  # a drawing bug must not take the service down with it
                log.exception("front panel: drawing failed")
            next_at += self.period
            delay = next_at - self.clock()
            if delay < 0:  # fell behind (slow bus): skip frames rather than catch up
                next_at = self.clock()
                delay = 0
            self.stopping.wait(delay)

    def closed(self) -> None:
        self.device.close()
