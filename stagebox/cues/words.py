"""Word timing marks in dialogue, for the rhythm band.

Syntax (documented in docs/cue-sheets.md): a timecode in braces placed right before a word says
when that word is spoken, e.g.

    {01:00:03:12}Never {01:00:04:02}again.
    {+0}Never {+15}again.          (frames after the cue's TC-in)

The marks are removed from the dialogue the actor reads; each marked word becomes a
`(word, Timecode)` pair in `Cue.words`. Unmarked words are shown but not placed on the band.
Only braces holding something timecode-like (digits, `:;.+`) are marks; other braces are text.
"""

from __future__ import annotations

import re

from stagebox.timecode import Rate, Timecode, TimecodeError

_MARK = re.compile(r"\{\s*([0-9:;.+\s]*)\s*\}")
_WORD = re.compile(r"\S+")


def parse_words(
    dialogue: str, tc_in: Timecode, tc_out: Timecode, rate: Rate
) -> tuple[str, tuple[tuple[str, Timecode], ...], list[str]]:
    """Split `dialogue` into (text without marks, timed words, problems).

    Problems (as messages without a line number): a mark that is not a timecode, a mark with
    no word after it, a word outside the cue's window, words out of time order.
    """
    problems: list[str] = []
    if "{" not in dialogue:
        return dialogue, (), problems
    words: list[tuple[str, Timecode]] = []
    clean_parts: list[str] = []
    pos = 0
    pending: tuple[str, Timecode | None] | None = None  # (mark text, its time) awaiting a word
    for match in _MARK.finditer(dialogue):
        between = dialogue[pos : match.start()]
        clean_parts.append(between)
        pending = _attach(pending, between, words)
        if pending is not None:
            problems.append(f"word timing mark {{{pending[0]}}} has no word after it")
        pos = match.end()
        mark = match.group(1).strip()
        pending = (mark, _mark_time(mark, tc_in, rate, problems))
    tail = dialogue[pos:]
    clean_parts.append(tail)
    pending = _attach(pending, tail, words)
    if pending is not None:
        problems.append(f"word timing mark {{{pending[0]}}} has no word after it")
    clean = re.sub(r"[ \t]{2,}", " ", "".join(clean_parts)).strip()
    for word, tc in words:
        if not tc_in <= tc < tc_out:
            problems.append(f"word {word!r} at {tc} is outside the cue's window {tc_in} - {tc_out}")
    for (w1, t1), (w2, t2) in zip(words, words[1:], strict=False):
        if t2 < t1:
            problems.append(f"word {w2!r} at {t2} comes before the previous word {w1!r} at {t1}")
    return clean, tuple(words), problems


def _attach(pending, text: str, words: list):
    """Give the pending mark to the first word of `text`; return the mark if `text` has none."""
    if pending is None:
        return None
    word = _WORD.search(text)
    if word is None:
        return pending
    mark, tc = pending
    if tc is not None:
        words.append((word.group(0), tc))
    return None


def _mark_time(mark: str, tc_in: Timecode, rate: Rate, problems: list[str]) -> Timecode | None:
    if mark.startswith("+"):
        digits = mark[1:].strip()
        if not digits.isdigit():
            problems.append(f"word timing mark {{{mark}}} is not +FRAMES or a timecode")
            return None
        return tc_in + int(digits)
    try:
        return Timecode.parse(mark, rate)
    except TimecodeError as exc:
        problems.append(f"word timing mark {{{mark}}}: {exc}")
        return None
