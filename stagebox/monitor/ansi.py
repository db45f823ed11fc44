"""ANSI escape codes: colours that can be switched off, and widths that ignore them."""

from __future__ import annotations

import re
import unicodedata

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RESET = "\x1b[0m"

# SGR codes by the names the monitor uses.
CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
    "on_red": "41;97",
    "on_yellow": "43;30",
    "on_blue": "44;97",
    "on_green": "42;30",
}


class Style:
    """Paints text with SGR codes, or leaves it plain when colour is off (pipes, NO_COLOR)."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *names: str) -> str:
        codes = [CODES[n] for n in names if n]  # "" stands for no style
        if not self.colour or not codes or not text:
            return text
        return "\x1b[" + ";".join(codes) + "m" + text + RESET


def char_width(ch: str) -> int:
    """Terminal columns one character takes: 2 for wide East Asian, 0 for combining marks."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def visible_width(text: str) -> int:
    """Columns `text` takes on the terminal, escape codes not counted."""
    return sum(char_width(ch) for ch in ESCAPE.sub("", text))


def clip(text: str, width: int, ellipsis: str = "") -> str:
    """`text` cut to `width` columns, escape codes kept and the colour reset if cut."""
    if visible_width(text) <= width:
        return text
    room = max(0, width - visible_width(ellipsis))
    out = []
    used = 0
    i = 0
    while i < len(text):
        match = ESCAPE.match(text, i)
        if match:
            out.append(match.group())
            i = match.end()
            continue
        w = char_width(text[i])
        if used + w > room:
            break
        out.append(text[i])
        used += w
        i += 1
    clipped = "".join(out)
    if "\x1b[" in clipped:
        clipped += RESET
    return clipped + (ellipsis if width >= visible_width(ellipsis) else "")


def pad(text: str, width: int) -> str:
    """`text` clipped or padded with spaces to exactly `width` columns."""
    text = clip(text, width)
    return text + " " * (width - visible_width(text))
