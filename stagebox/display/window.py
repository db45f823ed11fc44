"""A window on a desktop (X11 or Wayland): the streamer screen on an engineer's laptop."""

from __future__ import annotations

import logging

from stagebox.display.screen import Pacer, ScreenUnavailable
from stagebox.display.sdl import SDLScreen

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 720)
HEADLESS_DRIVERS = ("dummy", "offscreen", "kmsdrm", "evdev")


class WindowScreen(SDLScreen):
    name = "window"
    driver = None  # whatever desktop SDL finds

    def __init__(self, config) -> None:
        super().__init__(config)
        self._pacer: Pacer | None = None

    def open(self):
        pg = self._start_video()
        driver = pg.display.get_driver()
        if driver in HEADLESS_DRIVERS:
            pg.display.quit()
            raise ScreenUnavailable(
                f"window: no desktop to open a window on (SDL video driver {driver!r}); "
                "use the kmsdrm backend on a console"
            )
        size = self.config.size or DEFAULT_SIZE
        try:
            surface = pg.display.set_mode(size, pg.SCALED | pg.RESIZABLE, vsync=1)
            self.vsync = True
        except pg.error as exc:
            log.warning("window: no vsync (%s); frames are paced by a timer instead", exc)
            try:
                surface = pg.display.set_mode(size, pg.SCALED | pg.RESIZABLE)
            except pg.error as exc2:
                pg.display.quit()
                raise ScreenUnavailable(f"window: set_mode failed: {exc2}") from None
            self.vsync = False
            self._pacer = Pacer(self.refresh_hz)
        pg.display.set_caption("stagebox streamer")
        refresh = pg.display.get_current_refresh_rate()
        if refresh and 10 <= refresh <= 500:
            self.refresh_hz = float(refresh)
        self.surface = surface
        return surface

    def present(self) -> None:
        super().present()
        if self._pacer is not None:
            self._pacer.wait()
