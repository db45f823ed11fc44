"""A small built-in 5x7 bitmap font (upper case, digits, stage punctuation), drawn by hand.

Each glyph is seven rows of five pixels; a row of `#` and `.` reads as it looks. Letters and
digits advance a fixed 6 px (so timecode digits never jitter); narrow punctuation (`:;.,'!`)
advances by its own width plus 1, so a timecode fits the panel at double size. Lower case is
drawn as upper case; anything else as `?`.
"""

from __future__ import annotations

import functools

WIDTH = 5  # pixels per glyph cell
HEIGHT = 7  # pixels; an 8-pixel page leaves one blank row below
SPACING = 1  # pixels between glyphs

_GLYPHS = """
0 .###. #...# #..## #.#.# ##..# #...# .###.
1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
2 .###. #...# ....# ...#. ..#.. .#... #####
3 ##### ...#. ..#.. ...#. ....# #...# .###.
4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
5 ##### #.... ####. ....# ....# #...# .###.
6 ..##. .#... #.... ####. #...# #...# .###.
7 ##### ....# ...#. ..#.. .#... .#... .#...
8 .###. #...# #...# .###. #...# #...# .###.
9 .###. #...# #...# .#### ....# ...#. .##..
A .###. #...# #...# ##### #...# #...# #...#
B ####. #...# #...# ####. #...# #...# ####.
C .###. #...# #.... #.... #.... #...# .###.
D ###.. #..#. #...# #...# #...# #..#. ###..
E ##### #.... #.... ####. #.... #.... #####
F ##### #.... #.... ####. #.... #.... #....
G .###. #...# #.... #.### #...# #...# .####
H #...# #...# #...# ##### #...# #...# #...#
I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
J ..### ...#. ...#. ...#. ...#. #..#. .##..
K #...# #..#. #.#.. ##... #.#.. #..#. #...#
L #.... #.... #.... #.... #.... #.... #####
M #...# ##.## #.#.# #.#.# #...# #...# #...#
N #...# #...# ##..# #.#.# #..## #...# #...#
O .###. #...# #...# #...# #...# #...# .###.
P ####. #...# #...# ####. #.... #.... #....
Q .###. #...# #...# #...# #.#.# #..#. .##.#
R ####. #...# #...# ####. #.#.. #..#. #...#
S .#### #.... #.... .###. ....# ....# ####.
T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
U #...# #...# #...# #...# #...# #...# .###.
V #...# #...# #...# #...# #...# .#.#. ..#..
W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.
X #...# #...# .#.#. ..#.. .#.#. #...# #...#
Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..
Z ##### ....# ...#. ..#.. .#... #.... #####
: ..... .##.. .##.. ..... .##.. .##.. .....
; ..... .##.. .##.. ..... .##.. ..#.. .#...
. ..... ..... ..... ..... ..... .##.. .##..
, ..... ..... ..... ..... .##.. ..#.. .#...
- ..... ..... ..... ##### ..... ..... .....
+ ..... ..#.. ..#.. ##### ..#.. ..#.. .....
/ ..... ....# ...#. ..#.. .#... #.... .....
' ..#.. ..#.. .#... ..... ..... ..... .....
@ .###. #...# #.### #.#.# #.### #.... .###.
! ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..
? .###. #...# ....# ...#. ..#.. ..... ..#..
# .#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.
% ##..# ##..# ...#. ..#.. .#... #..## #..##
( ...#. ..#.. .#... .#... .#... ..#.. ...#.
) .#... ..#.. ...#. ...#. ...#. ..#.. .#...
_ ..... ..... ..... ..... ..... ..... #####
= ..... ..... ##### ..... ##### ..... .....
< ...#. ..#.. .#... #.... .#... ..#.. ...#.
> .#... ..#.. ...#. ....# ...#. ..#.. .#...
* ..... ..#.. #.#.# .###. #.#.# ..#.. .....
" .#.#. .#.#. .#.#. ..... ..... ..... .....
& .##.. #..#. #.#.. .#... #.#.# #..#. .##.#
"""

NARROW = set(":;.,'!")  # advance by their own width, not the full cell


def _parse() -> dict[str, tuple[str, ...]]:
    glyphs: dict[str, tuple[str, ...]] = {" ": (".....",) * HEIGHT}
    for line in _GLYPHS.strip().splitlines():
        char, *rows = line.split()
        assert len(rows) == HEIGHT and all(len(r) == WIDTH for r in rows), line
        glyphs[char] = tuple(rows)
    return glyphs


GLYPHS = _parse()


def _normal(char: str) -> str:
    char = char.upper()
    return char if char in GLYPHS else "?"


@functools.cache
def glyph(char: str) -> tuple[tuple[int, ...], ...]:
    """The glyph for `char` as rows of 0/1, trimmed to its own columns if it is narrow."""
    rows = GLYPHS[_normal(char)]
    columns = range(WIDTH)
    if _normal(char) in NARROW:
        used = [c for c in columns if any(r[c] == "#" for r in rows)]
        columns = range(used[0], used[-1] + 1)
    return tuple(tuple(1 if r[c] == "#" else 0 for c in columns) for r in rows)


def advance(char: str) -> int:
    """Pixels from this glyph's left edge to the next one's, at scale 1."""
    return len(glyph(char)[0]) + SPACING


def text_width(text: str, scale: int = 1) -> int:
    """Pixels `text` covers (without the spacing after the last glyph)."""
    if not text:
        return 0
    return (sum(advance(c) for c in text) - SPACING) * scale
