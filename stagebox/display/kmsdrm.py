"""The real backend: the Pi's HDMI monitor through SDL's KMS/DRM driver, with no desktop.

The pygame-ce aarch64 wheel carries SDL's KMSDRM driver. The service user needs the `video`
and `render` groups (for /dev/dri/card* and /dev/dri/renderD*). SDL opens the monitor's
current mode fullscreen; the style is rendered at `display.size` (or the native size) and
scaled by the GPU (pygame's SCALED). vsync is the DRM page flip: `present()` returns at the
flip, which is what the vsync tracker measures.

HDMI absent or pulled: the connector state is read from sysfs
(/sys/class/drm/card*-HDMI-A-*/status) before opening and about once a second while showing,
so a missing monitor is reported as such instead of as an SDL error, and a pulled cable closes
the screen (the display process retries until the monitor is back).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from stagebox.display.screen import ScreenUnavailable
from stagebox.display.sdl import SDLScreen

log = logging.getLogger(__name__)

SYSFS_DRM = Path("/sys/class/drm")
CHECK_INTERVAL = 1.0  # seconds between connector checks while showing


def connector_states(root: Path = SYSFS_DRM) -> dict[str, str]:
    """Video connectors (`card1-HDMI-A-1` ...) and their state: connected / disconnected."""
    states: dict[str, str] = {}
    if not root.is_dir():
        return states
    for entry in sorted(root.iterdir()):
        status = entry / "status"
        if "-" not in entry.name or not status.is_file():
            continue
        try:
            states[entry.name] = status.read_text().strip()
        except OSError:
            continue
    return states


def connected_problem(states: dict[str, str]) -> str:
    """Why no monitor can be shown on, or "" if one is connected (or sysfs says nothing)."""
    if not states or any(s == "connected" for s in states.values()):
        return ""
    listed = ", ".join(f"{name}: {state}" for name, state in states.items())
    return f"no monitor connected ({listed})"


class KMSDRMScreen(SDLScreen):
    name = "kmsdrm"
    driver = "kmsdrm"
    vsync = True

    def __init__(self, config) -> None:
        super().__init__(config)
        self.sysfs = Path(config.sysfs_drm)
        self._next_check = 0.0

    def open(self):
        problem = connected_problem(connector_states(self.sysfs))
        if problem:
            raise ScreenUnavailable(f"kmsdrm: {problem}")
        pg = self._start_video()
        try:
            sizes = pg.display.get_desktop_sizes()
            if not sizes:
                raise ScreenUnavailable("kmsdrm: no display mode (is a monitor connected?)")
            size = self.config.size or sizes[0]
            surface = pg.display.set_mode(size, pg.FULLSCREEN | pg.SCALED, vsync=1)
            pg.mouse.set_visible(False)
            refresh = pg.display.get_current_refresh_rate()
        except pg.error as exc:
            pg.display.quit()
            raise ScreenUnavailable(f"kmsdrm: set_mode failed: {exc}") from None
        if refresh and 10 <= refresh <= 500:
            self.refresh_hz = float(refresh)
        log.info(
            "kmsdrm: showing %dx%d on a %dx%d monitor at %s Hz",
            *size,
            *sizes[0],
            refresh or "unknown",
        )
        self.surface = surface
        self._next_check = time.monotonic() + CHECK_INTERVAL
        return surface

    def poll(self):
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + CHECK_INTERVAL
            problem = connected_problem(connector_states(self.sysfs))
            if problem:
                raise ScreenUnavailable(f"kmsdrm: display lost: {problem}")
        super().poll()
        return None  # a console has no window to close: QUIT is not ours to act on
