"""What a GPIO backend must implement, and how one is chosen by name.

A backend deals in electrical levels (True = 3.3 V) on BCM-numbered pins described by the pin
map; which level means "lit" or "pressed" is the business of the lamps and buttons above it.

A backend must implement:

- `claim_output(pin, level)`: make `pin` an output driving `level` from the first instant
  (no glitch through the other level: a record light must not flash on start-up).
- `write(pin, level, sample=None)`: drive an output. `sample` is the capture-stream sample the
  change was planned for; real backends ignore it, the simulator records it.
- `claim_input(pin, on_edge)`: make `pin` an input with the pin map's pull and call
  `on_edge(level, monotonic_time)` on every edge, from any thread, with the level after the edge
  and `time.monotonic()` taken as close to the edge as the backend can. The callback must be
  cheap (it only queues the edge).
- `read(pin)`: the present level of an input or output.
- `release_input(pin)`: stop edge callbacks on an input claimed before (the buttons hand
  back the inputs they claimed when one of them cannot be set up).
- `close()`: stop edge callbacks and release inputs. Outputs keep driving their last level
  (the lamps above switch themselves off first): an output handed back as an input would float
  and could light a relay.

Backends raise `GPIOError` (or a subclass) with a message naming the pin.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable

from stagebox.gpio.pinmap import Pin

# Backend name -> module under stagebox.gpio holding a class named `Backend`.
BACKENDS = {
    "rpigpio": "stagebox.gpio.rpigpio",
    "sim": "stagebox.gpio.sim",
}

EdgeCallback = Callable[[bool, float], None]  # (level after the edge, monotonic seconds)


class GPIOError(RuntimeError):
    """A GPIO operation failed; the message names the pin and the reason."""


class BackendUnavailable(GPIOError, ImportError):
    """The chosen backend's library is missing or cannot run on this machine."""


class GPIOBackend(ABC):
    """Electrical access to the pins the pin map lists. See the module docstring."""

    name: str = ""

    @abstractmethod
    def claim_output(self, pin: Pin, level: bool) -> None: ...

    @abstractmethod
    def write(self, pin: Pin, level: bool, sample: int | None = None) -> None: ...

    @abstractmethod
    def claim_input(self, pin: Pin, on_edge: EdgeCallback) -> None: ...

    @abstractmethod
    def read(self, pin: Pin) -> bool: ...

    @abstractmethod
    def release_input(self, pin: Pin) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GPIOBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_backend(name: str, **options) -> GPIOBackend:
    """The backend called `name` ("rpigpio" or "sim"); no fallback to another one."""
    module_name = BACKENDS.get(name)
    if module_name is None:
        raise GPIOError(f"unknown GPIO backend {name!r} (backends: {', '.join(BACKENDS)})")
    module = importlib.import_module(module_name)
    return module.Backend(**options)
