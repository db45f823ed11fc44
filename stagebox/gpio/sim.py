"""The simulated GPIO backend: pins in memory with a history, drivable by tests and the demo.

Lamps keep every change as `(sample, monotonic_time, level)`, so a test can assert that the
record light came on at the punch sample (`assert_states`). Buttons are pressed, released, held
and bounced by the test, which supplies the time of each edge: debounce and long-press logic is
then exercised without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from stagebox.gpio.backend import EdgeCallback, GPIOBackend, GPIOError
from stagebox.gpio.pinmap import Pin


@dataclass
class SimPin:
    """One simulated GPIO: direction, present level and every level it has had."""

    pin: Pin
    direction: str  # "out" | "in"
    level: bool
    # (sample the change was planned for or None, monotonic seconds, level after the change)
    history: list[tuple[int | None, float, bool]] = field(default_factory=list)
    on_edge: EdgeCallback | None = None


class Backend(GPIOBackend):
    """Simulated pins. `clock` stamps output changes (inject a fake clock in tests)."""

    name = "sim"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pins: dict[str, SimPin] = {}
        self.closed = False
        self._lock = threading.Lock()

    # -- the backend interface -------------------------------------------------------------

    def claim_output(self, pin: Pin, level: bool) -> None:
        with self._lock:
            self.pins[pin.name] = SimPin(pin, "out", level, [(None, self.clock(), level)])

    def write(self, pin: Pin, level: bool, sample: int | None = None) -> None:
        with self._lock:
            sim = self._get(pin.name, "out")
            sim.level = level
            sim.history.append((sample, self.clock(), level))

    def claim_input(self, pin: Pin, on_edge: EdgeCallback) -> None:
        # At rest the pull (or the external resistor) holds the released level.
        with self._lock:
            self.pins[pin.name] = SimPin(pin, "in", pin.level_for(False), on_edge=on_edge)

    def read(self, pin: Pin) -> bool:
        with self._lock:
            return self._get(pin.name).level

    def release_input(self, pin: Pin) -> None:
        with self._lock:
            sim = self.pins.pop(pin.name, None)
            if sim is not None:
                sim.on_edge = None

    def close(self) -> None:
        with self._lock:
            for sim in self.pins.values():
                sim.on_edge = None
            self.closed = True

    def _get(self, name: str, direction: str | None = None) -> SimPin:
        sim = self.pins.get(name)
        if sim is None:
            raise GPIOError(f"sim GPIO: pin {name!r} was never claimed")
        if direction and sim.direction != direction:
            raise GPIOError(f"sim GPIO {sim.pin.bcm} ({name}) is an input, not an output")
        return sim

    # -- lamps: what they did ---------------------------------------------------------------

    def level(self, name: str) -> bool:
        """Present electrical level of pin `name`."""
        return self._get(name).level

    def lit(self, name: str) -> bool:
        """Whether lamp `name` is lit now (its active level applied)."""
        sim = self._get(name, "out")
        return sim.pin.is_on(sim.level)

    def lamp_history(self, name: str) -> list[tuple[int | None, float, bool]]:
        """Lamp `name` as (sample, monotonic_time, lit), first entry the claim at start-up."""
        sim = self._get(name, "out")
        return [(s, t, sim.pin.is_on(level)) for s, t, level in sim.history]

    def assert_states(self, name: str, expected: Iterable[bool | tuple[int | None, bool]]) -> None:
        """Assert lamp `name`'s changes: a list of lit states, or of (sample, lit) pairs.

        The start-up claim is the first entry, so `[False, True, False]` reads "claimed off,
        lit, off". Raises AssertionError with both histories on a mismatch.
        """
        expected = list(expected)
        history = self.lamp_history(name)
        if expected and isinstance(expected[0], tuple):
            actual: list = [(s, on) for s, _, on in history]
        else:
            actual = [on for _, _, on in history]
        if actual != expected:
            raise AssertionError(f"lamp {name}: expected {expected}, got {actual}")

    # -- buttons: what the crew does --------------------------------------------------------

    def drive(self, name: str, level: bool, at: float | None = None) -> None:
        """Put `level` on input `name` at monotonic time `at` (now when None); edge if changed."""
        with self._lock:
            sim = self._get(name, "in")
            changed = sim.level != level
            sim.level = level
            callback = sim.on_edge
        if changed and callback is not None:
            callback(level, self.clock() if at is None else at)

    def press(self, name: str, at: float | None = None) -> None:
        sim = self._get(name, "in")
        self.drive(name, sim.pin.level_for(True), at)

    def release(self, name: str, at: float | None = None) -> None:
        sim = self._get(name, "in")
        self.drive(name, sim.pin.level_for(False), at)

    def hold(self, name: str, at: float, seconds: float) -> None:
        """Press at `at` and release `seconds` later."""
        self.press(name, at)
        self.release(name, at + seconds)

    def bounce(
        self, name: str, pressed: bool, at: float, edges: int = 4, spacing: float = 0.001
    ) -> float:
        """A contact bounce: the level toggles `edges` extra times, `spacing` s apart, starting
        at `at`, and settles at `pressed`. Returns the time of the last edge."""
        sim = self._get(name, "in")
        t = at
        state = not pressed
        for _ in range(edges + 1):
            state = not state
            self.drive(name, sim.pin.level_for(state), t)
            t += spacing
        if state != pressed:
            self.drive(name, sim.pin.level_for(pressed), t)
            return t
        return t - spacing
