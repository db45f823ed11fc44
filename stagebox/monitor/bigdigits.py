"""A block-digit font for the monitor's timecode: readable from across the control room."""

from __future__ import annotations

ROWS = 5  # glyph height in rows at scale 1

# Each glyph: ROWS strings of equal width, "#" a lit cell.
FONT = {
    "0": ["###", "# #", "# #", "# #", "###"],
    "1": [" # ", "## ", " # ", " # ", "###"],
    "2": ["###", "  #", "###", "#  ", "###"],
    "3": ["###", "  #", "###", "  #", "###"],
    "4": ["# #", "# #", "###", "  #", "  #"],
    "5": ["###", "#  ", "###", "  #", "###"],
    "6": ["###", "#  ", "###", "# #", "###"],
    "7": ["###", "  #", "  #", "  #", "  #"],
    "8": ["###", "# #", "###", "# #", "###"],
    "9": ["###", "# #", "###", "  #", "###"],
    ":": [" ", "#", " ", "#", " "],
    ";": [" ", "#", " ", "#", "#"],  # drop-frame: the lower dot grows a tail
    ".": [" ", " ", " ", " ", "#"],
    "-": ["   ", "   ", "###", "   ", "   "],
    " ": ["   ", "   ", "   ", "   ", "   "],
}


def big_text(text: str, scale: int = 1, lit: str = "█") -> list[str]:
    """`text` in block glyphs: ROWS * scale lines, glyphs one (scaled) column apart.

    Characters outside the font are drawn as a blank glyph.
    """
    glyphs = [FONT.get(ch, FONT[" "]) for ch in text]
    lines = []
    for row in range(ROWS):
        cells = (" " * scale).join("".join(cell * scale for cell in glyph[row]) for glyph in glyphs)
        line = cells.replace("#", lit)
        lines.extend([line] * scale)
    return lines


def big_width(text: str, scale: int = 1) -> int:
    """Columns `big_text(text, scale)` takes."""
    glyphs = [FONT.get(ch, FONT[" "]) for ch in text]
    return sum(len(g[0]) for g in glyphs) * scale + max(0, len(glyphs) - 1) * scale
