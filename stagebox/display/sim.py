"""Simulated screens for tests and CI: SDL's dummy driver, and plain PNG files.

Both pace their presents to `refresh_hz`, as a vsync'd monitor would, so the display process
runs its real timing path. The dummy screen can simulate a missing monitor (`sim_fail_opens`:
the first N `set_mode` calls fail as a real one does with no HDMI connected) and a pulled cable
(`sim_lose_after_frames`: the display is lost once after N presents).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from stagebox.display.renderer import import_pygame
from stagebox.display.screen import Pacer, Screen, ScreenUnavailable
from stagebox.display.sdl import SDLScreen

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 720)


class DummyScreen(SDLScreen):
    name = "dummy"
    driver = "dummy"
    vsync = True  # paced

    def __init__(self, config) -> None:
        super().__init__(config)
        self._pacer = Pacer(self.refresh_hz)
        self.fail_opens = config.sim_fail_opens  # set_mode calls still to fail
        self.lose_after = config.sim_lose_after_frames  # presents until the cable is pulled
        self.presents = 0

    def _set_mode(self, pg, size):
        if self.fail_opens > 0:
            self.fail_opens -= 1
            raise pg.error("simulated: no video mode (HDMI monitor absent)")
        return pg.display.set_mode(size)

    def open(self):
        pg = self._start_video()
        size = self.config.size or DEFAULT_SIZE
        try:
            surface = self._set_mode(pg, size)
        except pg.error as exc:
            pg.display.quit()
            raise ScreenUnavailable(f"dummy: set_mode failed: {exc}") from None
        self.surface = surface
        return surface

    def present(self) -> None:
        super().present()
        self.presents += 1
        if self.lose_after is not None and self.presents >= self.lose_after:
            self.lose_after = None
            raise ScreenUnavailable("dummy: display lost (simulated: HDMI cable pulled)")
        self._pacer.wait()


class PNGScreen(Screen):
    """Frames drawn off-screen; the latest written to `png_path` every `png_interval` s."""

    name = "png"
    vsync = True  # paced

    def __init__(self, config) -> None:
        super().__init__(config)
        if not config.png_path:
            raise ValueError("display.png_path: the png backend needs a file to write")
        self.path = Path(config.png_path)
        self._pacer = Pacer(self.refresh_hz)
        self._next_save = 0.0

    def open(self):
        pg = import_pygame()
        self.surface = pg.Surface(self.config.size or DEFAULT_SIZE)
        return self.surface

    def present(self) -> None:
        now = self._pacer.clock()
        if now >= self._next_save:
            self._next_save = now + self.config.png_interval
            self.save()
        self._pacer.wait()

    def save(self) -> None:
        """Write the current frame atomically (a reader never sees half a PNG)."""
        if self.surface is None:
            return
        pg = import_pygame()
        partial = self.path.with_name(self.path.stem + ".partial.png")
        try:
            pg.image.save(self.surface, str(partial))
            os.replace(partial, self.path)
        except (OSError, pg.error) as exc:
            raise ScreenUnavailable(f"png: cannot write {self.path}: {exc}") from None

    def close(self) -> None:
        if self.surface is not None:
            try:
                self.save()
            except ScreenUnavailable as exc:
                log.warning("%s", exc)
        self.surface = None
