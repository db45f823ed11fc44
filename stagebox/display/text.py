"""Line breaking for the dialogue: greedy word wrap against a measuring function (no pygame)."""

from __future__ import annotations

from collections.abc import Callable


def wrap_text(text: str, width: int, measure: Callable[[str], int]) -> list[str]:
    """Break `text` into lines no wider than `width` pixels as measured by `measure`.

    Words are kept whole; a single word wider than the line is broken between characters
    (a long name in a narrow window must still fit on screen). Explicit newlines are kept.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if measure(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            while measure(word) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and measure(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    while lines and not lines[-1]:
        lines.pop()
    return lines
