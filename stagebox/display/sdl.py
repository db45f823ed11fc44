"""What the SDL-based backends share: starting SDL video with one named driver, no fallback."""

from __future__ import annotations

import os
from typing import Any

from stagebox.display.renderer import import_pygame
from stagebox.display.screen import Screen, ScreenUnavailable


class SDLScreen(Screen):
    """A screen that is an SDL window; subclasses choose the driver and the mode."""

    driver: str | None = None  # SDL_VIDEODRIVER to insist on; None: SDL's own choice

    def _start_video(self) -> Any:
        """Start SDL video with `self.driver`; ScreenUnavailable if SDL ends up elsewhere."""
        # SDL would turn SIGINT/SIGTERM into a QUIT event; the process's signals are its own.
        os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
        pg = import_pygame()
        previous = os.environ.get("SDL_VIDEODRIVER")
        if self.driver is not None:
            if pg.display.get_init() and pg.display.get_driver() != self.driver:
                pg.display.quit()
            os.environ["SDL_VIDEODRIVER"] = self.driver
        try:
            pg.display.init()
        except pg.error as exc:
            raise ScreenUnavailable(f"{self.name}: SDL video did not start: {exc}") from None
        finally:
            # SDL reads the variable at init only; leave the process's environment as it was.
            if previous is None:
                os.environ.pop("SDL_VIDEODRIVER", None)
            else:
                os.environ["SDL_VIDEODRIVER"] = previous
        driver = pg.display.get_driver()
        if self.driver is not None and driver != self.driver:
            pg.display.quit()
            raise ScreenUnavailable(
                f"{self.name}: SDL started driver {driver!r}, not {self.driver!r}"
            )
        return pg

    def present(self) -> None:
        pg = import_pygame()
        try:
            pg.display.flip()
        except pg.error as exc:
            raise ScreenUnavailable(f"{self.name}: display lost: {exc}") from None

    def poll(self) -> str | None:
        pg = import_pygame()
        try:
            events = pg.event.get()
        except pg.error as exc:
            raise ScreenUnavailable(f"{self.name}: display lost: {exc}") from None
        for event in events:
            if event.type == pg.RENDER_DEVICE_RESET:
                raise ScreenUnavailable(f"{self.name}: display lost (render device reset)")
            if event.type in (pg.QUIT, pg.WINDOWCLOSE):
                return "quit"
        return None

    def close(self) -> None:
        pg = import_pygame()
        if pg.display.get_init():
            pg.display.quit()
        self.surface = None
