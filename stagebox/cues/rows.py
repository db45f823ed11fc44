"""From raw sheet rows to checked cues: shared by every importer.

An importer only finds the text of each field and the line it came from (`RawCue`); this module
turns that text into `Cue`s at the sheet's rate and collects every problem: timecodes that do not
parse or cannot exist at the rate, TC-out not after TC-in, bad word marks, duplicate numbers.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from stagebox.cues.cue import Cue
from stagebox.cues.errors import Problem
from stagebox.cues.sheet import cue_key
from stagebox.cues.words import parse_words
from stagebox.timecode import Rate, Timecode, TimecodeError


@dataclass
class RawCue:
    """One cue as the file writes it: text fields and the line it starts on."""

    line: int  # 1-based line in the file where the cue's row (or marker) starts
    number: str
    tc_in: str
    tc_out: str  # "" when the format allows a default (Pro Tools markers)
    character: str = ""
    actor: str = ""
    dialogue: str = ""
    notes: str = ""
    reel: str = ""
    scene: str = ""
    tags: dict[str, str] = field(default_factory=dict)  # other tags of the cue (Pro Tools)
    length: int = 0  # frames; with no TC-out, TC-out = TC-in + length (Avid locator duration)
    original: str = ""  # the original-language line, when `dialogue` is a dubbing language's
    language: str = ""  # the language of `dialogue` ("FR"), when the sheet names one


def parse_timecode(text: str, rate: Rate, what: str) -> tuple[Timecode | None, str]:
    """(timecode, "") or (None, a message naming the field and why it is not a timecode)."""
    try:
        return Timecode.parse(text, rate), ""
    except TimecodeError as exc:
        reason = str(exc)
        # Timecode's messages quote the label already; say which field it was.
        short = _short(reason, text)
        sep = " " if short.startswith("is ") else ": "
        return None, f"{what} {text.strip()!r}{sep}{short}"


def _short(reason: str, text: str) -> str:
    """Timecode's message without its leading label (the caller quotes the label already)."""
    if reason.startswith(repr(text)):
        return reason[len(repr(text)) :].lstrip()
    return re.sub(r"^[0-9][0-9:;.,]*\s+", "", reason)


def build_cues(
    raws: list[RawCue],
    rate: Rate,
    problems: list[Problem],
    *,
    default_length: int | None = None,  # frames; Pro Tools markers without an OUT time
) -> list[Cue]:
    """Checked cues in sheet order; problems appended to `problems` (cues with one are dropped).

    With `default_length`, a cue without TC-out ends `default_length` frames after its TC-in,
    or at the next cue's TC-in (in time order) if that comes sooner.
    """
    parsed: list[tuple[RawCue, Timecode | None, Timecode | None]] = []
    for raw in raws:
        tc_in, tc_out = None, None
        if not raw.number.strip():
            problems.append(Problem(raw.line, "the cue number is empty"))
        if not raw.tc_in.strip():
            problems.append(Problem(raw.line, "TC-in is empty"))
        else:
            tc_in, msg = parse_timecode(raw.tc_in, rate, "TC-in")
            if msg:
                problems.append(Problem(raw.line, msg))
        if raw.tc_out.strip():
            tc_out, msg = parse_timecode(raw.tc_out, rate, "TC-out")
            if msg:
                problems.append(Problem(raw.line, msg))
        elif raw.length > 0 and tc_in is not None:
            tc_out = tc_in + raw.length
        elif default_length is None:
            problems.append(Problem(raw.line, "TC-out is empty"))
        parsed.append((raw, tc_in, tc_out))

    if default_length is not None:
        parsed = _default_outs(parsed, default_length)

    cues: list[Cue] = []
    seen: dict[str, RawCue] = {}
    for raw, tc_in, tc_out in parsed:
        key = cue_key(raw.number)
        if key:
            first = seen.get(key)
            if first is not None:
                problems.append(
                    Problem(raw.line, f"cue {raw.number.strip()} appears twice", first.line)
                )
                continue
            seen[key] = raw
        if tc_in is None or tc_out is None or not key:
            continue
        if tc_out <= tc_in:
            relation = "the same as" if tc_out == tc_in else "before"
            problems.append(Problem(raw.line, f"TC-out {tc_out} is {relation} TC-in {tc_in}"))
            continue
        dialogue, words, word_problems = parse_words(raw.dialogue, tc_in, tc_out, rate)
        if word_problems:
            problems.extend(Problem(raw.line, msg) for msg in word_problems)
            continue
        cues.append(
            Cue(
                number=" ".join(raw.number.split()),
                tc_in=tc_in,
                tc_out=tc_out,
                character=raw.character.strip(),
                actor=raw.actor.strip(),
                dialogue=dialogue,
                notes=raw.notes.strip(),
                reel=raw.reel.strip(),
                scene=raw.scene.strip(),
                words=words,
                tags=dict(raw.tags),
                original=raw.original.strip(),
                language=raw.language.strip(),
            )
        )
    return cues


def _default_outs(parsed, default_length: int):
    starts = sorted({tc_in.frame_count for _, tc_in, _ in parsed if tc_in is not None})
    out = []
    for raw, tc_in, tc_out in parsed:
        if tc_out is None and tc_in is not None and not raw.tc_out.strip():
            k = bisect.bisect_right(starts, tc_in.frame_count)
            end = tc_in.frame_count + default_length
            if k < len(starts):
                end = min(end, starts[k])
            tc_out = Timecode.from_frames(end, tc_in.rate)
        out.append((raw, tc_in, tc_out))
    return out


def timecode_texts(raws: list[RawCue]) -> list[str]:
    """Every timecode label the rows contain (for guessing drop-frame from the `;`)."""
    texts = []
    for raw in raws:
        texts.extend(t for t in (raw.tc_in, raw.tc_out) if t.strip())
    return texts
