"""A cue written as a name: how markers and locators say "this is cue 101, JOHN, this line".

Pro Tools markers, Avid locators and EDL `* LOC:` comments have no cue columns: an ADR editor
types the cue into one line of text. The readings (docs/cue-sheets.md, "Marker cues"):

- `101 JOHN`, `101 JOHN: Where were you?`, `101 | JOHN | Where were you? | notes`: the first
  word is the number (it must hold a digit), then the character, the dialogue, notes;
- `Where were you? $QN=101`: the `$QN=` tag gives the number, the text is the dialogue;
- `OUT 01:00:13:05` (also `TC OUT`, `Out: ...`) anywhere gives TC-out;
- tags (`stagebox.cues.tags`) are kept; a text that is only tags (`$Reel=R2`) or whose first
  word holds no digit (`Reel 2 start`, `ANIM FIX NEEDED`) is not a cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stagebox.cues.tags import Tagged, merge, parse_tags

_TC_TEXT = r"\d{1,2}[:.]\d{1,2}[:.]\d{1,2}[:;.,]\d{1,2}"
_OUT_TAG = re.compile(rf"\b(?:TC[ \-]?)?OUT\s*[:=]?\s*({_TC_TEXT})", re.IGNORECASE)


@dataclass
class Spot:
    """The cue a name (and its comment) spell out."""

    number: str
    character: str = ""
    dialogue: str = ""
    notes: str = ""
    tc_out: str = ""  # the OUT time's text, "" when none was written
    tags: dict[str, str] = field(default_factory=dict)


def read_spot(name: str, comment: str = "") -> Spot | None:
    """The cue in `name` (with `comment` adding dialogue, notes, OUT and tags), or None."""
    return spot_from(parse_tags(name), parse_tags(comment))


def spot_from(name: Tagged, comment: Tagged) -> Spot | None:
    own = merge(comment.tags, name.tags)
    name_text, tc_out = _take_out(name.text)
    rest, comment_out = _take_out(comment.text)
    if "QN" in own:
        spot = Spot(own["QN"], dialogue=name_text)
    else:
        number, character, dialogue, notes = split_name(name_text)
        if not any(ch.isdigit() for ch in number):
            return None
        spot = Spot(number, character, dialogue, notes)
    spot.tc_out = tc_out or comment_out
    spot.tags = own
    if rest:
        if spot.dialogue:
            spot.notes = f"{spot.notes} {rest}".strip()
        else:
            spot.dialogue = rest
    return spot


def _take_out(text: str) -> tuple[str, str]:
    out = _OUT_TAG.search(text)
    if not out:
        return text, ""
    return (text[: out.start()] + text[out.end() :]).strip(" \t-,;|"), out.group(1)


def split_name(name: str) -> tuple[str, str, str, str]:
    """(number, character, dialogue, notes) from a cue written as a name."""
    if "|" in name:
        parts = [p.strip() for p in name.split("|")]
        parts += [""] * (3 - len(parts))
        return parts[0], parts[1], parts[2], " | ".join(p for p in parts[3:] if p)
    head, sep, dialogue = name.partition(":")
    words = head.split()
    if not words:
        return "", "", "", ""
    if sep and len(words) == 1:
        # `101: line` - a number and a line, no character
        return words[0], "", dialogue.strip(), ""
    return words[0], " ".join(words[1:]), dialogue.strip(), ""
