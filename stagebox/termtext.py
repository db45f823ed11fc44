"""Text from the stage shown on an engineer's terminal, with its control characters made visible.

Notes, cue sheet fields, file names and error messages come from people and files, and are
stored exactly as given (the take log, the report CSV, the iXML keep them). A note holding
`ESC[2J` must not clear another engineer's screen when `stagebox takes` prints it, nor a
bidirectional override reorder a line: on the way to a terminal each control character
(C0 but newline, DEL, C1, and the Unicode format controls that reorder text) is written as a
visible escape, `\\x1b` or `\\u202e`.
"""

from __future__ import annotations

import re

# C0 except LF, DEL, C1; bidi embeddings/overrides/isolates, line/paragraph separators.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, newlines: bool = True) -> str:
    """`text` with every control character but newline (`newlines`) shown as an escape;
    `newlines=False` escapes newlines too, for what must stay on one line."""
    text = _CONTROL.sub(_escape, str(text))
    return text if newlines else text.replace("\n", "\\n")


def printable_data(value: object) -> object:
    """`value` (JSON-like: dicts, lists, strings) with `printable` applied to every string."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(v) for v in value]
    return value


# Left raw by json.dumps(ensure_ascii=False), which escapes only C0: DEL, C1 and the format
# controls, written as JSON escapes instead (valid JSON: they only occur inside strings).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(value: object) -> str:
    """`value` as indented JSON for a terminal: readable accents, no raw control characters."""
    import json

    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
