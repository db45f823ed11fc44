"""The real GPIO backend: the RPi.GPIO API, provided by `rpi-lgpio` on every bookworm Pi.

rpi-lgpio provides the `RPi.GPIO` module on top of lgpio and /dev/gpiochip*. It is the one to
install on every Pi running Raspberry Pi OS bookworm (the `pi` extra): the classic RPi.GPIO
package cannot set up edge detection on kernel 6.6 and later (raspberrypi/linux#6037,
gpiozero#1136: `add_event_detect` fails with "Failed to add edge detection"), so the crew's
buttons would not work on a current Pi 4, and it cannot reach a Pi 5's pins at all (they sit
behind the RP1 chip). Both packages install the module `RPi`: uninstall RPi.GPIO first.
This backend's code is the same on either.

`import RPi.GPIO` raises RuntimeError off a Pi ("This module can only be run on a Raspberry
Pi!", rpi-lgpio when /proc/device-tree/system/linux,revision cannot be read), so it is
imported here, when the backend is opened, and never at package import time.

Edges: `add_event_detect(BOTH)` calls back on RPi.GPIO's own thread; the callback stamps
`time.monotonic()` and reads the level at once, and the buttons' debouncer sorts out bounces
(RPi.GPIO's own `bouncetime` is not used: it drops the release edge of a bounce and cannot tell
a long press).
"""

from __future__ import annotations

import contextlib
import errno
import time

from stagebox.gpio.backend import BackendUnavailable, EdgeCallback, GPIOBackend, GPIOError
from stagebox.gpio.pinmap import Pin


def _import_gpio():
    try:
        import RPi.GPIO as GPIO
    except ImportError as exc:
        raise BackendUnavailable(
            "GPIO backend 'rpigpio' needs the RPi.GPIO module: pip install rpi-lgpio "
            f"(every Pi on bookworm; `stagebox[pi]`) ({exc})"
        ) from None
    except RuntimeError as exc:
        # RPi.GPIO refuses to load off a Pi, or without access to /dev/gpiomem.
        raise BackendUnavailable(
            f"GPIO backend 'rpigpio' cannot run here: {exc} (use --backend sim off a Pi)"
        ) from None
    return GPIO


class Backend(GPIOBackend):
    """RPi.GPIO (or rpi-lgpio) with BCM numbering."""

    name = "rpigpio"

    def __init__(self) -> None:
        self._gpio = _import_gpio()
        self._gpio.setwarnings(False)  # a pin left as an output by the last run is expected
        self._gpio.setmode(self._gpio.BCM)
        self._inputs: list[int] = []

    def _fail(self, pin: Pin, action: str, exc: Exception) -> GPIOError:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
            why += " (add the service user to the 'gpio' group)"
        return GPIOError(f"GPIO {pin.bcm} ({pin.name}): cannot {action}: {why}")

    def claim_output(self, pin: Pin, level: bool) -> None:
        g = self._gpio
        try:
            g.setup(pin.bcm, g.OUT, initial=g.HIGH if level else g.LOW)
        except (RuntimeError, OSError, ValueError) as exc:
            raise self._fail(pin, "set up as an output", exc) from None

    def write(self, pin: Pin, level: bool, sample: int | None = None) -> None:
        g = self._gpio
        try:
            g.output(pin.bcm, g.HIGH if level else g.LOW)
        except (RuntimeError, OSError, ValueError) as exc:
            raise self._fail(pin, "switch", exc) from None

    def claim_input(self, pin: Pin, on_edge: EdgeCallback) -> None:
        g = self._gpio
        pull = {"up": g.PUD_UP, "down": g.PUD_DOWN, "none": g.PUD_OFF}[pin.pull]

        def edge(channel: int) -> None:
            on_edge(bool(g.input(channel)), time.monotonic())

        try:
            g.setup(pin.bcm, g.IN, pull_up_down=pull)
            g.add_event_detect(pin.bcm, g.BOTH, callback=edge)
        except (RuntimeError, OSError, ValueError) as exc:
            # Hand the pin back: set up as an input but without edges it would do nothing.
            with contextlib.suppress(RuntimeError, OSError, ValueError):
                g.cleanup([pin.bcm])
            raise self._fail(pin, "watch for presses", exc) from None
        self._inputs.append(pin.bcm)

    def read(self, pin: Pin) -> bool:
        try:
            return bool(self._gpio.input(pin.bcm))
        except (RuntimeError, OSError, ValueError) as exc:
            raise self._fail(pin, "read", exc) from None

    def release_input(self, pin: Pin) -> None:
        g = self._gpio
        if pin.bcm not in self._inputs:
            return
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            g.remove_event_detect(pin.bcm)
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            g.cleanup([pin.bcm])
        self._inputs.remove(pin.bcm)

    def close(self) -> None:
        g = self._gpio
        for bcm in self._inputs:
            # Closing anyway: a failure here is released by the cleanup below.
            with contextlib.suppress(RuntimeError, OSError, ValueError):
                g.remove_event_detect(bcm)
        if self._inputs:
            g.cleanup(self._inputs)  # inputs only: outputs keep driving "off"
        self._inputs = []
