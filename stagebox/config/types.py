"""Typed config values: each type parses a raw TOML value, validates it and writes it back.

Like Mopidy's `config/types.py`: a value type knows its limits (minimum, maximum, choices) and
says in one sentence why a value is refused. `parse()` raises `ValueError` with that sentence;
the loader adds the key path, file and line. `to_toml()` writes a parsed value back as a TOML
literal (used by `stagebox config show` and the commented default file), and `describe()` says
in words what the type accepts (used by the reference in docs/configuration.md).
"""

from __future__ import annotations

import abc
import json
import math
import re
from dataclasses import field
from pathlib import Path
from typing import Any

from stagebox.safefile import path_problem, show_path
from stagebox.takes.names import FIELDS as TAKE_NAME_FIELDS
from stagebox.takes.names import parse_template
from stagebox.timecode import RATES, Rate, TimecodeError


def _show(raw: Any) -> str:
    """A raw TOML value as the engineer wrote it, for error messages."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return json.dumps(raw, ensure_ascii=False)
    return repr(raw)


def _toml_kind(raw: Any) -> str:
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int):
        return "an integer"
    if isinstance(raw, float):
        return "a float"
    if isinstance(raw, str):
        return "a string"
    if isinstance(raw, list):
        return "an array"
    if isinstance(raw, dict):
        return "a table"
    return f"a {type(raw).__name__}"


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(text, ensure_ascii=False)


class ValueType(abc.ABC):
    """A config value type: parse (validate) a raw TOML value, write it back, describe it."""

    @abc.abstractmethod
    def parse(self, raw: Any, base: Path | None = None) -> Any:
        """The validated value; `base` is the config file's folder (for relative paths)."""

    @abc.abstractmethod
    def to_toml(self, value: Any) -> str:
        """`value` (as `parse` returns it) as a TOML literal."""

    @abc.abstractmethod
    def describe(self) -> str:
        """What the type accepts, in a few words for the reference."""


class Boolean(ValueType):
    def parse(self, raw: Any, base: Path | None = None) -> bool:
        if not isinstance(raw, bool):
            raise ValueError(f"expected true or false, got {_toml_kind(raw)} {_show(raw)}")
        return raw

    def to_toml(self, value: bool) -> str:
        return "true" if value else "false"

    def describe(self) -> str:
        return "boolean"


class Integer(ValueType):
    def __init__(
        self,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: tuple[int, ...] | None = None,
        hex: bool = False,
    ):
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.hex = hex  # written back as 0x3c (I2C addresses)

    def parse(self, raw: Any, base: Path | None = None) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"expected an integer, got {_toml_kind(raw)} {_show(raw)}")
        shown = self.to_toml(raw)
        if self.choices is not None and raw not in self.choices:
            raise ValueError(f"{shown} is not one of {', '.join(map(str, self.choices))}")
        if self.minimum is not None and raw < self.minimum:
            raise ValueError(f"{shown} is below the minimum {self.to_toml(self.minimum)}")
        if self.maximum is not None and raw > self.maximum:
            raise ValueError(f"{shown} is above the maximum {self.to_toml(self.maximum)}")
        return raw

    def to_toml(self, value: int) -> str:
        if self.hex and value >= 0:
            return f"0x{value:02x}"
        return str(value)

    def describe(self) -> str:
        if self.choices is not None:
            return "integer, one of " + ", ".join(map(str, self.choices))
        return "integer" + _range_text(self.minimum, self.maximum, self.to_toml)


class Float(ValueType):
    def __init__(self, minimum: float | None = None, maximum: float | None = None):
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, raw: Any, base: Path | None = None) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"expected a number, got {_toml_kind(raw)} {_show(raw)}")
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(f"{_show(raw)} is not a finite number")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{_show(raw)} is below the minimum {_num(self.minimum)}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{_show(raw)} is above the maximum {_num(self.maximum)}")
        return value

    def to_toml(self, value: float) -> str:
        text = repr(float(value))
        return text if ("." in text or "e" in text) else text + ".0"

    def describe(self) -> str:
        return "number" + _range_text(self.minimum, self.maximum, _num)


class FloatOrWord(ValueType):
    """A number in a range, or one word meaning "take it from elsewhere" (parsed as None):
    `daw.preroll_seconds = "stage"` follows `stage.preroll_seconds`."""

    def __init__(self, word: str, minimum: float | None = None, maximum: float | None = None):
        self.word = word
        self.number = Float(minimum, maximum)

    def parse(self, raw: Any, base: Path | None = None) -> float | None:
        if isinstance(raw, str):
            if raw.strip().lower() == self.word:
                return None
            raise ValueError(f'{_show(raw)} is not "{self.word}" or a number')
        try:
            return self.number.parse(raw)
        except ValueError as exc:
            raise ValueError(f'{exc} (or "{self.word}")') from None

    def to_toml(self, value: float | None) -> str:
        return toml_string(self.word) if value is None else self.number.to_toml(value)

    def describe(self) -> str:
        return f'`"{self.word}"` or a {self.number.describe()}'


class String(ValueType):
    def __init__(self, choices: tuple[str, ...] | None = None, allow_empty: bool = True):
        self.choices = choices
        self.allow_empty = allow_empty

    def parse(self, raw: Any, base: Path | None = None) -> str:
        if not isinstance(raw, str):
            raise ValueError(f"expected a string, got {_toml_kind(raw)} {_show(raw)}")
        if self.choices is not None and raw not in self.choices:
            raise ValueError(f"{_show(raw)} is not one of {', '.join(self.choices)}")
        if not self.allow_empty and not raw.strip():
            raise ValueError("must not be empty")
        return raw

    def to_toml(self, value: str) -> str:
        return toml_string(value)

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(f"`{c}`" for c in self.choices)
        return "string" if self.allow_empty else "string, not empty"


class TextEncoding(ValueType):
    """A text encoding Python knows (`mac_roman`, `cp1252`, `utf-8` ...) or `auto`."""

    def parse(self, raw: Any, base: Path | None = None) -> str:
        import codecs

        if not isinstance(raw, str):
            raise ValueError(f"expected a string, got {_toml_kind(raw)} {_show(raw)}")
        if raw.strip().lower() in ("", "auto"):
            return "auto"
        try:
            info = codecs.lookup(raw.strip())
        except LookupError:
            raise ValueError(
                f"{_show(raw)} is not a text encoding (e.g. auto, utf-8, mac_roman, cp1252)"
            ) from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError(f"{_show(raw)} is not a text encoding")
        return raw.strip()

    def to_toml(self, value: str) -> str:
        return toml_string(value)

    def describe(self) -> str:
        return "`auto` or a text encoding name (`utf-8`, `mac_roman`, `cp1252`, `utf-16` ...)"


def Choice(*choices: str) -> String:  # a function named like the types it sits among
    """A string that must be one of `choices`."""
    return String(choices=tuple(choices))


class PathValue(ValueType):
    """A file or folder; relative paths are taken from the config file's folder.

    `optional`: the empty string means "not set" (parsed as None), since TOML has no null.
    `must_exist`: "file" or "dir" when the path must already be there at load time.
    """

    def __init__(self, optional: bool = False, must_exist: str | None = None):
        self.optional = optional
        self.must_exist = must_exist

    def parse(self, raw: Any, base: Path | None = None) -> Path | None:
        if not isinstance(raw, str):
            raise ValueError(f"expected a path string, got {_toml_kind(raw)} {_show(raw)}")
        if raw == "":
            if self.optional:
                return None
            raise ValueError("must not be empty")
        problem = path_problem(raw)
        if problem:
            raise ValueError(problem)
        path = Path(raw).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        if self.must_exist == "file" and not path.is_file():
            raise ValueError(f"{show_path(path)} is not an existing file")
        if self.must_exist == "dir" and not path.is_dir():
            raise ValueError(f"{show_path(path)} is not an existing folder")
        return path

    def to_toml(self, value: Path | None) -> str:
        return toml_string("" if value is None else str(value))

    def describe(self) -> str:
        text = "path"
        if self.must_exist:
            text += f" to an existing {'folder' if self.must_exist == 'dir' else 'file'}"
        if self.optional:
            text += ' (`""`: not set)'
        return text


class TimecodeRateValue(ValueType):
    """`"auto"` (None: read the rate from the LTC itself) or a rate such as `"29.97df"`."""

    def parse(self, raw: Any, base: Path | None = None) -> Rate | None:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            raise ValueError(f"expected a rate string, got {_toml_kind(raw)} {_show(raw)}")
        if raw.strip().lower() == "auto":
            return None
        try:
            return Rate.parse(raw)
        except TimecodeError:
            known = ", ".join(rate.name for rate in RATES)
            raise ValueError(f'{_show(raw)} is not "auto" or a rate ({known})') from None

    def to_toml(self, value: Rate | None) -> str:
        return toml_string("auto" if value is None else value.name)

    def describe(self) -> str:
        return '`"auto"` or a rate: `"23.976"`, `"24"`, `"25"`, `"29.97df"`, `"29.97"`, `"30"`'


class ChannelList(ValueType):
    """Audio channel numbers, 1-based as on the interface's front panel; parsed to a tuple."""

    def __init__(self, maximum: int = 64, allow_empty: bool = False):
        self.maximum = maximum
        self.allow_empty = allow_empty

    def parse(self, raw: Any, base: Path | None = None) -> tuple[int, ...]:
        if not isinstance(raw, list):
            hint = f" (write [{raw}])" if isinstance(raw, int) and not isinstance(raw, bool) else ""
            raise ValueError(
                f"expected a list of channel numbers, got {_toml_kind(raw)} {_show(raw)}{hint}"
            )
        if not raw and not self.allow_empty:
            raise ValueError("needs at least one channel")
        for item in raw:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValueError(f"channel {_show(item)} is not an integer")
            if not 1 <= item <= self.maximum:
                raise ValueError(
                    f"channel {item} is outside 1..{self.maximum} (channels count from 1)"
                )
        repeated = sorted({c for c in raw if raw.count(c) > 1})
        if repeated:
            raise ValueError(f"channel {repeated[0]} is listed twice")
        return tuple(raw)

    def to_toml(self, value: tuple[int, ...]) -> str:
        return "[" + ", ".join(map(str, value)) + "]"

    def describe(self) -> str:
        return f"list of channel numbers 1..{self.maximum}"


class ChoiceList(ValueType):
    """A list of words from a fixed set, each at most once (may be empty); parsed to a tuple
    in the order of `choices`: `phones.guide_modes = ["rehearse"]`."""

    def __init__(self, *choices: str):
        self.choices = choices

    def parse(self, raw: Any, base: Path | None = None) -> tuple[str, ...]:
        if not isinstance(raw, list):
            hint = f" (write [{_show(raw)}])" if isinstance(raw, str) else ""
            raise ValueError(f"expected a list, got {_toml_kind(raw)} {_show(raw)}{hint}")
        for item in raw:
            if item not in self.choices:
                raise ValueError(f"{_show(item)} is not one of {', '.join(self.choices)}")
        repeated = sorted({c for c in raw if raw.count(c) > 1})
        if repeated:
            raise ValueError(f"{_show(repeated[0])} is listed twice")
        return tuple(c for c in self.choices if c in raw)

    def to_toml(self, value: tuple[str, ...]) -> str:
        return "[" + ", ".join(map(toml_string, value)) + "]"

    def describe(self) -> str:
        return "list of " + ", ".join(f"`{c}`" for c in self.choices) + " (may be empty)"


class ScreenSize(ValueType):
    """`"auto"` (None: the screen's current mode) or `"WIDTHxHEIGHT"` in pixels."""

    PATTERN = re.compile(r"^\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*$", re.ASCII)

    def parse(self, raw: Any, base: Path | None = None) -> tuple[int, int] | None:
        if not isinstance(raw, str):
            raise ValueError(f'expected "auto" or "WIDTHxHEIGHT", got {_toml_kind(raw)}')
        if raw.strip().lower() == "auto":
            return None
        match = self.PATTERN.match(raw)
        if not match:
            raise ValueError(f'{_show(raw)} is not "auto" or a size like "1920x1080"')
        width, height = int(match[1]), int(match[2])
        if not (160 <= width <= 7680 and 120 <= height <= 4320):
            raise ValueError(f"{width}x{height} is outside 160x120..7680x4320")
        return (width, height)

    def to_toml(self, value: tuple[int, int] | None) -> str:
        return toml_string("auto" if value is None else f"{value[0]}x{value[1]}")

    def describe(self) -> str:
        return '`"auto"` or `"WIDTHxHEIGHT"` (pixels)'


class FileMode(ValueType):
    """A Unix permission mode written as an octal string, e.g. `"0660"`; parsed to an int."""

    def parse(self, raw: Any, base: Path | None = None) -> int:
        if not isinstance(raw, str) or not re.fullmatch(r"0?[0-7]{3}", raw.strip()):
            raise ValueError(f'{_show(raw)} is not an octal mode string like "0660"')
        mode = int(raw.strip(), 8)
        if mode & 0o002:
            raise ValueError(f"{raw} lets every user on the machine write to it")
        return mode

    def to_toml(self, value: int) -> str:
        return toml_string(f"{value:04o}")

    def describe(self) -> str:
        return 'octal mode string, e.g. `"0660"` (never world-writable)'


class TakeName(ValueType):
    """A take file name template such as `"<cue>_T<take:03>.wav"`."""

    def parse(self, raw: Any, base: Path | None = None) -> str:
        if not isinstance(raw, str):
            raise ValueError(f"expected a template string, got {_toml_kind(raw)}")
        parse_template(raw)  # raises TakeNameError (a ValueError) naming what is wrong
        return raw

    def to_toml(self, value: str) -> str:
        return toml_string(value)

    def describe(self) -> str:
        fields = ", ".join(f"`<{f}>`" for f in TAKE_NAME_FIELDS)
        return f"template with {fields}; `<take:03>` pads to 3 digits; must contain `<take>`"


def _num(value: float) -> str:
    return f"{value:g}"


def _range_text(minimum, maximum, fmt) -> str:
    if minimum is not None and maximum is not None:
        return f", {fmt(minimum)}..{fmt(maximum)}"
    if minimum is not None:
        return f", at least {fmt(minimum)}"
    if maximum is not None:
        return f", at most {fmt(maximum)}"
    return ""


def setting(vtype: ValueType, default: Any, doc: str) -> Any:
    """A config key: its type, its default as written in TOML, and a one-line doc."""
    return field(
        default=vtype.parse(default),
        metadata={"type": vtype, "doc": doc},
    )
