"""The simulated MIDI output: every message kept with the monotonic time it was sent.

Tests and `stagebox demo` read `sent` to assert what the DAW was told and in which order;
`fail_with` makes the next sends fail, as an unplugged USB MIDI interface would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from stagebox.daw.backend import MidiError, MidiOutput


class Backend(MidiOutput):
    """Messages in memory. `clock` stamps them (inject a fake clock in tests)."""

    name = "sim"

    def __init__(self, port: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self.port_name = port or "sim"
        self.clock = clock
        self.sent: list[tuple[float, bytes]] = []  # (monotonic seconds, message)
        self.fail_with: str | None = None  # a reason: sends fail with it until cleared
        self.closed = False
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def send(self, message: bytes) -> None:
        with self._lock:
            if self.closed:
                raise MidiError(f"MIDI port {self.port_name}: closed")
            if self.fail_with:
                raise MidiError(f"MIDI port {self.port_name}: {self.fail_with}")
            self.sent.append((self.clock(), bytes(message)))
            self._changed.notify_all()

    def close(self) -> None:
        with self._lock:
            self.closed = True

    def reopen(self) -> Backend:
        """The same simulated port opened again (its history kept): the service's opener."""
        with self._lock:
            self.closed = False
        return self

    def messages(self) -> list[bytes]:
        """The messages sent so far, oldest first."""
        with self._lock:
            return [m for _, m in self.sent]

    def wait_for(self, count: int, timeout: float = 2.0) -> list[bytes]:
        """Wait until `count` messages have been sent (or `timeout` s); those sent so far."""
        with self._lock:
            self._changed.wait_for(lambda: len(self.sent) >= count, timeout)
            return [m for _, m in self.sent]
