"""The simulated front panel: keeps the last image, and prints it as text for a terminal."""

from __future__ import annotations

from stagebox.panel.framebuffer import Framebuffer


class SimPanel:
    """Same interface as `ssd1306.SSD1306`, in memory. `fail` makes it act like a dead bus."""

    describe = "simulated panel"

    def __init__(self) -> None:
        self.image: Framebuffer | None = None
        self.ready = False
        self.shows = 0
        self.fail: Exception | None = None

    def open(self) -> None:
        if self.fail is not None:
            raise self.fail
        self.ready = True

    def show(self, fb: Framebuffer) -> int:
        if not self.ready:
            self.open()
        if self.fail is not None:
            self.ready = False
            raise self.fail
        self.image = fb
        self.shows += 1
        return fb.pixels.size // 8

    def close(self) -> None:
        self.ready = False

    def to_text(self) -> str:
        """The last image as 64 lines of `#` and `.`."""
        if self.image is None:
            return ""
        return "\n".join("".join("#" if v else "." for v in row) for row in self.image.pixels)
