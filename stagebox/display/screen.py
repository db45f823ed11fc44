"""The display seam: where frames go. Backends are chosen by name, never by fallback.

| name     | what                                                           | module    |
|----------|----------------------------------------------------------------|-----------|
| `kmsdrm` | the HDMI monitor of a headless Pi, fullscreen, vsync page flip | kmsdrm.py |
| `window` | a window on a laptop's desktop (X11/Wayland), vsync if offered | window.py |
| `dummy`  | SDL's dummy driver, paced to the refresh rate (tests, CI)      | sim.py    |
| `png`    | no SDL video at all; the latest frame saved as a PNG file      | sim.py    |

A backend implements `Screen`. `open()` raises `ScreenUnavailable` when there is nothing to draw
on right now (monitor absent, no permission on /dev/dri, driver missing); `present()` and
`poll()` raise it when the screen goes away (HDMI cable pulled). The display process treats it
as "retry in a few seconds", never as fatal.
"""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pygame

    from stagebox.display.config import DisplayConfig

# name -> "module:Class" under stagebox.display, imported only when chosen.
BACKENDS = {
    "kmsdrm": "kmsdrm:KMSDRMScreen",
    "window": "window:WindowScreen",
    "dummy": "sim:DummyScreen",
    "png": "sim:PNGScreen",
}


class ScreenUnavailable(Exception):
    """No screen to draw on at the moment; the message says why (shown to the engineer)."""


class Screen:
    """A place frames go.

    Backends set:
    - `persistent`: the surface keeps its pixels between presents (so only what changed needs
      redrawing); False means every frame is drawn in full.
    - `refresh_hz`: the refresh rate, measured or assumed.
    - `vsync`: `present()` returns at the page flip (True for kmsdrm, and for the simulated
      backends, which pace themselves to `refresh_hz`).
    """

    name = "screen"
    persistent = True
    vsync = False

    def __init__(self, config: DisplayConfig) -> None:
        self.config = config
        self.refresh_hz = config.refresh_hz
        self.surface: pygame.Surface | None = None

    def open(self) -> pygame.Surface:
        """Open the screen and return the surface to draw on; raise ScreenUnavailable."""
        raise ScreenUnavailable(f"{self.name}: a backend must implement open()")

    def present(self) -> None:
        """Show the drawn frame; with vsync, return at the flip."""

    def poll(self) -> str | None:
        """Handle pending window-system events; "quit" when the user closed the window."""
        return None

    def close(self) -> None:
        """Release the screen (safe to call twice, and after a failed open)."""
        self.surface = None


class Pacer:
    """Sleeps so presents happen on a regular refresh grid (for screens without a vsync)."""

    def __init__(self, refresh_hz: float, clock=time.monotonic, sleep=time.sleep) -> None:
        self.period = 1.0 / refresh_hz  # seconds
        self.clock = clock
        self.sleep = sleep
        self.next: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.next is None or now - self.next > self.period:
            self.next = now + self.period  # first frame, or fell behind: restart the grid
        if self.next > now:
            self.sleep(self.next - now)
        self.next += self.period


def make_screen(config: DisplayConfig) -> Screen:
    """The backend named by `config.backend` (unknown names are an error, not a fallback)."""
    spec = BACKENDS.get(config.backend)
    if spec is None:
        raise ValueError(
            f"display.backend: unknown backend {config.backend!r} (known: {', '.join(BACKENDS)})"
        )
    module, cls = spec.split(":")
    backend: Any = getattr(importlib.import_module(f"stagebox.display.{module}"), cls)
    return backend(config)
