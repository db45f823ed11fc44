"""A 1-bit 128x64 image, drawn with the built-in font, and its SSD1306 page layout.

The SSD1306 keeps its display RAM as 8 pages of 128 bytes: byte `c` of page `p` holds the
column `c` pixels of rows `8p .. 8p+7`, least significant bit at the top.
"""

from __future__ import annotations

import numpy as np

from stagebox.panel import font

WIDTH = 128  # pixels
HEIGHT = 64  # pixels
PAGES = HEIGHT // 8


class Framebuffer:
    """Pixels as a (64, 128) array of 0/1, row 0 at the top."""

    def __init__(self) -> None:
        self.pixels = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)

    def fill_rect(self, x: int, y: int, w: int, h: int, value: int = 1) -> None:
        """Set a rectangle (clipped to the screen)."""
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, WIDTH), min(y + h, HEIGHT)
        if x1 > x0 and y1 > y0:
            self.pixels[y0:y1, x0:x1] = value

    def draw_text(self, x: int, y: int, text: str, scale: int = 1, invert: bool = False) -> int:
        """Draw `text` with its top-left at (x, y); returns the x after it. Clipped."""
        ink = 0 if invert else 1
        for char in text:
            rows = np.array(font.glyph(char), dtype=np.uint8)
            if scale > 1:
                rows = rows.repeat(scale, axis=0).repeat(scale, axis=1)
            h, w = rows.shape
            region = self._clip(x, y, w, h)
            if region is not None:
                (ys, xs), (gy, gx) = region
                mask = rows[gy, gx].astype(bool)
                self.pixels[ys, xs][mask] = ink
            x += font.advance(char) * scale
        return x

    def _clip(self, x: int, y: int, w: int, h: int):
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, WIDTH), min(y + h, HEIGHT)
        if x1 <= x0 or y1 <= y0:
            return None
        return (slice(y0, y1), slice(x0, x1)), (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))

    def to_pages(self) -> bytes:
        """The image in SSD1306 RAM order: 8 pages x 128 columns, LSB = top row of the page."""
        stacked = self.pixels.reshape(PAGES, 8, WIDTH)  # page, bit, column
        packed = np.packbits(stacked, axis=1, bitorder="little")  # page, 1, column
        return packed.reshape(PAGES * WIDTH).tobytes()
