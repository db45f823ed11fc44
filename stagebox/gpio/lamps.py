"""The stage's lamps, switched at the monotonic moment of a planned sample.

The engine decides in sample time: "the record light goes on at sample 1 234 567" (the punch).
`LampDriver` turns that into a GPIO write at `fit.to_monotonic(sample) - relay_lag_trim`, with
the engine's latest sample->monotonic fit (`stagebox.timemap.TimeFit`), on its own thread so
the engine never waits. The wait is precise: a coarse sleep to ~2 ms before the moment, then
short sleeps, because a plain `sleep()` on Linux overshoots by up to a scheduler tick.

`relay_lag_trim` (seconds) is how long the lamp takes to light after the GPIO changes (a relay
pulls in within 5-15 ms; an SSR or LED driver is near 0): the write is advanced by that much so
the lamp is seen on the sample.

Replay mode: when the engine is fed from a file the fit is not real time, so the driver
switches each planned event at once, in sample order, and records its sample; a test then
compares lamp history with the engine's light events to the sample.

Lamps go off when the driver stops, when its owner raises (context manager), at interpreter
exit (atexit), and on SIGTERM once `stagebox.signals.sigterm_exits()` is in force. A
process killed outright (SIGKILL, OOM) cannot run any of that and its pins stay as last set,
so the service unit also runs `stagebox lights off` as ExecStopPost. From boot until the
service claims them, `firmware/config.txt` (`gpio=` lines) holds every lamp off.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable

from stagebox.gpio.backend import GPIOBackend, GPIOError
from stagebox.gpio.pinmap import LAMP_NAMES, PinMap
from stagebox.lamps import LightEvent  # the engine's plan: re-exported for the driver's users
from stagebox.timemap import TimeFit
from stagebox.worker import Worker

log = logging.getLogger("stagebox.gpio")

SPIN_MARGIN = 0.002  # seconds before the moment at which the coarse sleep hands over
SPIN_STEP = 0.0002  # seconds: the short sleeps of the last stretch
COARSE_MAX = 0.25  # seconds: longest single coarse wait (to notice stop without a wake)
LATE_WARNING = 0.1  # seconds: a lamp switched this late is worth a warning


class LampError(GPIOError):
    """A lamp could not be switched, or the lamp thread failed or would not stop."""


class Lamps:
    """The pin map's lamps on a backend, by name, with their active level applied.

    Every lamp is claimed dark. Thread-safe: the lamp thread and an immediate `set()` from the
    engine may switch lamps concurrently.
    """

    def __init__(self, backend: GPIOBackend, pinmap: PinMap) -> None:
        self.backend = backend
        self.pins = pinmap.lamps
        self._lock = threading.Lock()
        for pin in self.pins.values():
            backend.claim_output(pin, pin.level_for(False))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.pins)

    def check_name(self, name: str) -> bool:
        """True if `name` is wired; False for a known lamp this stage has not wired."""
        if name in self.pins:
            return True
        if name in LAMP_NAMES:
            return False
        raise LampError(f"unknown lamp {name!r} (lamps: {', '.join(LAMP_NAMES)})")

    def set(self, name: str, on: bool, sample: int | None = None) -> None:
        """Light or darken lamp `name` now; an unwired known lamp (no stand-by) is skipped."""
        if not self.check_name(name):
            return
        pin = self.pins[name]
        with self._lock:
            self.backend.write(pin, pin.level_for(on), sample)

    def all_off(self, sample: int | None = None) -> None:
        """Darken every lamp; tries them all even if one fails, then raises the first error."""
        first: Exception | None = None
        for name in self.pins:
            try:
                self.set(name, False, sample)
            except Exception as exc:  # keep going: the other lamps must still go dark
                log.error("lamp %s: could not switch off: %s", name, exc)
                first = first or exc
        if first is not None:
            raise first


class LampDriver(Worker):
    """Switches planned `LightEvent`s at their monotonic moment, on its own thread.

    `clock` and `sleep` are injectable so a test can run the precise wait on a fake clock
    (`run_due()` does in the caller's thread what the thread does). With the real clock the
    coarse part of the wait is an Event wait, so a newly planned earlier event, a new fit or a
    stop wakes the thread at once.
    """

    name = "stagebox-lamps"
    label = "the lamp thread"
    error_class = LampError

    def __init__(
        self,
        lamps: Lamps,
        *,
        relay_lag_trim: float = 0.0,  # seconds the lamp lags its GPIO (written that much early)
        replay: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        spin_margin: float = SPIN_MARGIN,
        spin_step: float = SPIN_STEP,
    ) -> None:
        if relay_lag_trim < 0 or relay_lag_trim > 1:
            raise LampError(f"relay lag trim {relay_lag_trim} s is outside 0..1 s")
        self.lamps = lamps
        self.relay_lag_trim = relay_lag_trim
        self.replay = replay
        self._clock = clock
        self._fine_sleep = sleep or time.sleep
        self._coarse_sleep = sleep or self._wait_for_wake
        self._spin_margin = spin_margin
        self._spin_step = spin_step
        super().__init__()
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._heap: list[tuple[int, int, LightEvent]] = []
        self._seq = itertools.count()
        self._generation = 0  # bumped when the plan or fit changes: a waiting switch rechecks
        self._fit: TimeFit | None = None
        self._warned_no_fit = False
        self._off_error: Exception | None = None
        self.max_late = 0.0  # seconds: the latest any planned switch has been
        self.switched = 0  # planned events switched so far

    # -- what the engine calls -------------------------------------------------------------

    def update_fit(self, fit: TimeFit | None) -> None:
        """The engine's newest sample->monotonic fit; pending switches re-aim at once (the
        time map refits every 16 periods: the same fit again wakes nothing)."""
        with self._cond:
            if fit == self._fit:
                return
            self._fit = fit
            self._generation += 1
        self._wake.set()

    def plan(self, events: Iterable[LightEvent]) -> None:
        """Queue light events (any order). In replay mode they are switched now, in order."""
        self.check()
        events = sorted(events, key=lambda e: e.sample)
        for event in events:
            self.lamps.check_name(event.name)
        if self.replay:
            for event in events:
                self.lamps.set(event.name, event.state, event.sample)
                self.switched += 1
            return
        with self._cond:
            for event in events:
                heapq.heappush(self._heap, (event.sample, next(self._seq), event))
            self._generation += 1
            self._cond.notify_all()
        self._wake.set()

    def cancel(self) -> int:
        """Drop every planned event (LTC jumped: the plan is stale). Returns how many."""
        with self._cond:
            dropped = len(self._heap)
            self._heap.clear()
            self._generation += 1
        self._wake.set()
        return dropped

    def set(self, name: str, state: bool, sample: int | None = None) -> None:
        """Switch a lamp now, without waiting (replay, safe mode, the lights test)."""
        self.check()
        self.lamps.set(name, state, sample)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> LampDriver:
        """Start the switching thread (none in replay mode: the caller's thread switches)."""
        if self.alive:
            raise LampError("the lamp driver is already running")
        atexit.register(self._lamps_off_at_exit)
        if not self.replay:
            super().start()
        return self

    def wake(self) -> None:
        self._wake.set()
        with self._cond:
            self._cond.notify_all()

    def closed(self) -> None:
        """Every lamp dark, whatever happened to the thread."""
        try:
            self.lamps.all_off()
        except Exception as exc:
            self._off_error = exc
            log.error("lamps could not all be switched off: %s", exc)
        finally:
            atexit.unregister(self._lamps_off_at_exit)

    def failed(self, exc: BaseException) -> None:
        """The switching thread died: the lamps go dark at once, not at stop."""
        self.lamps.all_off()

    def stop(self, timeout: float = 2.0, raise_error: bool = True) -> None:
        """Stop the thread, darken every lamp, and raise if the thread failed or hung."""
        self._off_error = None
        super().stop(timeout, raise_error)
        if raise_error and self._off_error is not None:
            raise LampError(
                f"lamps could not all be switched off: {self._off_error}"
            ) from self._off_error

    def _lamps_off_at_exit(self) -> None:
        try:
            self.lamps.all_off()
        except Exception as exc:  # at exit there is no one left to raise to
            log.error("lamps off at exit failed: %s", exc)

    # -- the switching loop ----------------------------------------------------------------

    def due_time(self, event: LightEvent, fit: TimeFit | None) -> float | None:
        """Monotonic moment to write the GPIO for `event`; None without a fit (write now)."""
        if fit is None:
            return None
        return fit.to_monotonic(event.sample) - self.relay_lag_trim

    def run_due(self) -> int:
        """Switch every planned event in the calling thread, waiting for each; returns count.

        The lamp thread runs the same steps; tests call this with a fake clock and sleep.
        """
        count = 0
        while not self.stopping.is_set() and self._step():
            count += 1
        return count

    def run(self) -> None:
        while not self.stopping.is_set():
            with self._cond:
                while not self._heap and not self.stopping.is_set():
                    self._cond.wait(COARSE_MAX)
            if self.stopping.is_set():
                return
            self._step()

    def _step(self) -> bool:
        """Wait for the earliest planned event and switch it. False if nothing is planned."""
        while True:
            with self._cond:
                if not self._heap:
                    return False
                _, _, event = self._heap[0]
                fit, generation = self._fit, self._generation
                self._wake.clear()
            target = self.due_time(event, fit)
            if target is None:
                if not self._warned_no_fit:
                    log.warning("no sample-to-time fit yet: lamps switch as soon as planned")
                    self._warned_no_fit = True
            elif not self._wait_until(target, generation):
                if self.stopping.is_set():
                    return False
                continue  # the plan or the fit changed: aim again
            with self._cond:
                if not self._heap or self._heap[0][2] is not event:
                    continue  # cancelled, or an earlier event arrived in the last instant
                heapq.heappop(self._heap)
            self._switch(event, target)
            return True

    def _wait_until(self, target: float, generation: int) -> bool:
        """Sleep until monotonic `target`: coarse to ~2 ms before, then short sleeps.

        False if interrupted (stop, new plan, new fit) before the moment.
        """
        while True:
            if self.stopping.is_set() or generation != self._generation:
                return False
            remaining = target - self._clock()
            if remaining <= 0:
                return True
            if remaining > self._spin_margin:
                self._coarse_sleep(min(remaining - self._spin_margin, COARSE_MAX))
            else:
                self._fine_sleep(min(remaining, self._spin_step))

    def _wait_for_wake(self, seconds: float) -> None:
        self._wake.wait(seconds)

    def _switch(self, event: LightEvent, target: float | None) -> None:
        self.lamps.set(event.name, event.state, event.sample)
        self.switched += 1
        if target is not None:
            late = self._clock() - target
            self.max_late = max(self.max_late, late)
            if late > LATE_WARNING:
                log.warning(
                    "lamp %s %s at sample %d switched %.0f ms late (planned too late?)",
                    event.name,
                    "on" if event.state else "off",
                    event.sample,
                    late * 1000,
                )
        log.debug("lamp %s %s at sample %d", event.name, event.state, event.sample)
