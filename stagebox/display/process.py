"""The display process: draws the streamer screen at every vsync, on its own, forever.

It runs apart from the engine (started by `DisplayLink` with the spawn context), so rendering
can never cost the audio thread a period. The engine sends `StageSnapshot`s; the loop keeps only
the newest. For each refresh it predicts when the frame it is about to draw will be scanned out
(the next vsync plus the display latency trim), maps that moment to a capture sample with the
snapshot's time fit and to a fractional frame count with its clock fit, draws, and presents.

The screen may be missing (no HDMI monitor at boot) or vanish (cable pulled): the loop logs a
warning, reports `no-screen` to the engine, and tries again every `retry_seconds`. Nothing
about the screen ends the process; only a stop request, or the user closing a laptop window.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from stagebox.display import timing
from stagebox.display.config import DisplayConfig
from stagebox.display.screen import Screen, ScreenUnavailable, make_screen
from stagebox.display.vsync import VsyncClock
from stagebox.snapshot import StageSnapshot

log = logging.getLogger(__name__)

REMIND_EVERY = 60.0  # seconds between repeated "still no screen" warnings

STATES = ("starting", "showing", "no-screen", "closed", "stopped")


@dataclass(frozen=True)
class DisplayStatus:
    """What the display process tells the engine (for the front panel and `stagebox status`)."""

    state: str  # one of STATES
    backend: str
    pid: int
    size: tuple[int, int] | None = None  # pixels being drawn, None without a screen
    refresh_hz: float = 0.0  # Hz: measured refresh (vsync period tracker)
    frames: int = 0  # frames presented since the process started
    opens: int = 0  # successful screen opens (more than 1: the screen came back)
    failures: int = 0  # failed opens and losses
    render_ms: float = 0.0  # ms: mean render time over the last status interval
    message: str = ""  # the last problem, for the engineer
    take_line: str = ""  # the take line as last drawn ("T3 IN SYNC 96% +12ms  TAKE 4")


class DisplayLoop:
    """The loop of the display process, runnable in-process for tests.

    `latest()` returns the newest snapshot or None when nothing new arrived; `report(status)`
    sends a status; `stopping()` says when to end.
    """

    def __init__(
        self,
        config: DisplayConfig,
        latest: Callable[[], StageSnapshot | None],
        report: Callable[[DisplayStatus], None],
        stopping: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.latest = latest
        self.report = report
        self.stopping = stopping
        self.clock = clock
        self.sleep = sleep
        self.screen: Screen = make_screen(config)
        self.snapshot: StageSnapshot | None = None
        self.surface: Any = None
        self.renderer: Any = None
        self.vsync = VsyncClock(config.refresh_hz)
        self.status = DisplayStatus("starting", config.backend, os.getpid())
        self._next_open = 0.0
        self._next_status = 0.0
        self._last_warning = -1e9
        self._render_time = 0.0  # seconds summed over the status interval
        self._render_count = 0

    def run(self) -> int:
        """Draw until stopped; 0 on a stop request or a closed window."""
        self._send(state="starting")
        try:
            while not self.stopping():
                self._take_snapshots()
                if self.surface is None:
                    self._try_open()
                    continue
                try:
                    if self.screen.poll() == "quit":
                        log.info("display: window closed by the user")
                        self._send(state="closed", size=None)
                        return 0
                    self._draw_one()
                except ScreenUnavailable as exc:
                    self._lost(str(exc))
                self._maybe_report()
            self._send(state="stopped")
            return 0
        finally:
            self.screen.close()

    # -- steps --------------------------------------------------------------------------------

    def _take_snapshots(self) -> None:
        snap = self.latest()
        if snap is not None:
            self.snapshot = snap

    def _try_open(self) -> None:
        now = self.clock()
        if now < self._next_open:
            self.sleep(min(0.05, self._next_open - now))
            return
        try:
            surface = self.screen.open()
        except ScreenUnavailable as exc:
            self._next_open = now + self.config.retry_seconds
            self._problem(f"{exc}; retrying every {self.config.retry_seconds:g} s")
            self._send(state="no-screen", size=None, failures=self.status.failures + 1)
            return
        from stagebox.display.renderer import StreamerRenderer

        size = surface.get_size()
        if self.renderer is None or (self.renderer.width, self.renderer.height) != size:
            self.renderer = StreamerRenderer(size, self.config.style)
        self.surface = surface
        self.vsync = VsyncClock(self.screen.refresh_hz)
        if self.status.failures:
            log.warning("display: %s screen is back (%dx%d)", self.screen.name, *size)
        else:
            log.info("display: %s screen open (%dx%d)", self.screen.name, *size)
        self._send(
            state="showing",
            message="",
            size=size,
            opens=self.status.opens + 1,
            refresh_hz=self.screen.refresh_hz,
        )

    def _draw_one(self) -> None:
        snap = self.snapshot
        start = self.clock()
        scanout = self.vsync.next_vsync(start) + self.config.latency_ms / 1000.0
        frames = timing.frames_at(snap, scanout, self.config.max_extrapolation) if snap else None
        self.renderer.render(
            self.surface,
            frames,
            snap.cue if snap else None,
            snap,
            full=not self.screen.persistent,
        )
        self._render_time += self.clock() - start
        self._render_count += 1
        self.screen.present()
        self.vsync.on_present(self.clock())
        self.status = replace(self.status, frames=self.status.frames + 1)
        if self.renderer.take_line != self.status.take_line:  # told at once, not in a second
            self._send(take_line=self.renderer.take_line)

    def _lost(self, why: str) -> None:
        self.screen.close()
        self.surface = None
        self._next_open = self.clock() + self.config.retry_seconds
        self._last_warning = -1e9  # a loss is always worth a warning
        self._problem(f"{why}; retrying every {self.config.retry_seconds:g} s")
        self._send(state="no-screen", size=None, failures=self.status.failures + 1)

    # -- reporting ----------------------------------------------------------------------------

    def _problem(self, message: str) -> None:
        """Warn on the first failure and then once a minute, not every retry."""
        now = self.clock()
        if now - self._last_warning >= REMIND_EVERY or message != self.status.message:
            log.warning("display: %s", message)
            self._last_warning = now
        self.status = replace(self.status, message=message)

    def _maybe_report(self) -> None:
        now = self.clock()
        if now >= self._next_status:
            self._send()

    def _send(self, **changes: Any) -> None:
        if self._render_count:
            changes.setdefault("render_ms", 1000.0 * self._render_time / self._render_count)
            self._render_time, self._render_count = 0.0, 0
        changes.setdefault("refresh_hz", 1.0 / self.vsync.period)
        self.status = replace(self.status, **changes)
        self._next_status = self.clock() + self.config.status_interval
        self.report(self.status)


def display_main(config: DisplayConfig, inbox: Any, outbox: Any, stop: Any) -> int:
    """Entry point of the display process (spawned by DisplayLink).

    `inbox` is the receiving end of a pipe of snapshots from the engine, `outbox` a queue of
    statuses back, `stop` an Event. The end of the pipe (the engine's process is gone) also
    ends the display: an orphaned display must not hold the monitor.
    """
    # Ctrl-C in the service's terminal reaches the whole process group; the engine decides
    # when the display stops (through `stop`), so the display ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(levelname)s: %(message)s")
    engine_gone = False
    current: StageSnapshot | None = None  # the engine's stage, as the changes so far make it

    def latest() -> StageSnapshot | None:
        nonlocal engine_gone, current
        newest = None
        try:
            while inbox.poll(0):  # every change in order: each holds only what changed
                current = newest = inbox.recv().apply(current)
        except (EOFError, OSError):
            if not engine_gone:
                log.warning("display: the engine's end of the snapshot pipe closed; stopping")
            engine_gone = True
        return newest

    def report(status: DisplayStatus) -> None:
        # The engine reads statuses lazily; a dropped one is replaced within a second.
        with contextlib.suppress(queue.Full):
            outbox.put_nowait(status)

    loop = DisplayLoop(config, latest, report, lambda: engine_gone or stop.is_set())
    return loop.run()


def run_process(config: DisplayConfig, inbox: Any, outbox: Any, stop: Any) -> None:
    """`multiprocessing` target: exit with display_main's status."""
    raise SystemExit(display_main(config, inbox, outbox, stop))
