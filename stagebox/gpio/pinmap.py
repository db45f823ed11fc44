"""The pin map: which lamp, button and bus is wired to which GPIO, read from TOML and checked.

The map is data (`hardware/pinmap.toml`, one source of truth). The same file ships inside the
package as `stagebox/data/pinmap.toml`, which in a checkout is a symlink to
`../../hardware/pinmap.toml`: git stores the link, setuptools copies the file it points to into
the wheel and the sdist, so there is one file to edit and no copy to keep in step (a test checks
the link). `load_pinmap()` with no path reads that package file.

Every check names the file, the line of the `[[pin]]` entry, the pin and the field, because the
person reading the error is an installer with a screwdriver in the other hand.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stagebox.safefile import PINMAP_MAX_BYTES, FileRefused, read_text_bounded, toml_loads

# What the code knows how to drive: a lamp or button with another name would do nothing.
LAMP_NAMES = ("cue_light", "record_light", "standby_light")
REQUIRED_LAMPS = ("cue_light", "record_light")
BUTTON_NAMES = (
    "record",
    "safe",
    "rehearse",
    "next_cue",
    "previous_cue",
    "circle",
    "talkback",
    "roomtone",  # optional: no pin in the default pin map (docs/lights-and-buttons.md)
    "wild",  # optional, likewise
)
OPTIONAL_BUTTONS = ("roomtone", "wild")  # wired by adding their [[pin]] to a stage's pin map

FUNCTIONS = ("lamp", "button", "i2c")
DIRECTIONS = ("out", "in")
ACTIVE_LEVELS = ("high", "low")
PULLS = ("up", "down", "none")
FIELDS = ("name", "bcm", "header", "function", "direction", "active", "pull", "label")

# BCM GPIO number -> physical pin on the 40-pin header (identical on every 40-pin Pi, 1B+ to 5).
HEADER_PIN = {
    2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27, 5: 29, 6: 31,
    13: 33, 19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26,
    1: 28, 12: 32, 16: 36, 20: 38, 21: 40,
}  # fmt: skip

# GPIOs the stage hardware owns for something else; using them breaks audio, the HAT or login.
RESERVED = {
    0: "ID_SD, the HAT's ID EEPROM",
    1: "ID_SC, the HAT's ID EEPROM",
    14: "the serial console (TXD)",
    15: "the serial console (RXD)",
    18: "I2S to the audio HAT (PCM_CLK); GPIO 18-21 are reserved",
    19: "I2S to the audio HAT (PCM_FS); GPIO 18-21 are reserved",
    20: "I2S to the audio HAT (PCM_DIN); GPIO 18-21 are reserved",
    21: "I2S to the audio HAT (PCM_DOUT); GPIO 18-21 are reserved",
}
I2C_PINS = {2: "i2c_sda", 3: "i2c_scl"}

_ENTRY = re.compile(r"^\s*\[\[\s*pin\s*\]\]")


class PinMapError(ValueError):
    """The pin map cannot be used; the message names the file, line, pin and field."""


@dataclass(frozen=True)
class Pin:
    """One wired GPIO, as the pin map describes it."""

    name: str  # what the code calls it: "cue_light", "record", ...
    bcm: int  # Broadcom GPIO number
    header: int  # physical pin on the 40-pin header
    function: str  # lamp | button | i2c
    direction: str  # out | in
    active: str  # high | low: the level at which the lamp is lit / the button is pressed
    pull: str  # up | down | none: pull resistor enabled on the Pi's side
    label: str  # what is printed on the panel or the lamp

    @property
    def active_high(self) -> bool:
        return self.active == "high"

    def level_for(self, on: bool) -> bool:
        """Electrical level (True = 3.3 V) that means lit / pressed when `on`."""
        return on == self.active_high

    def is_on(self, level: bool) -> bool:
        """Whether the electrical `level` means lit / pressed."""
        return level == self.active_high


@dataclass(frozen=True)
class PinMap:
    """The whole map, with lamps and buttons by name, in file order."""

    path: str  # where it was read from (for messages)
    pins: tuple[Pin, ...]

    @property
    def lamps(self) -> dict[str, Pin]:
        return {p.name: p for p in self.pins if p.function == "lamp"}

    @property
    def buttons(self) -> dict[str, Pin]:
        return {p.name: p for p in self.pins if p.function == "button"}

    def pin(self, name: str) -> Pin:
        for p in self.pins:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.pins)
        raise PinMapError(f"{self.path}: no pin named {name!r} (the map has: {known})")


def default_pinmap_path() -> Path:
    """The pin map shipped with the package (in a checkout: hardware/pinmap.toml via a link)."""
    return Path(str(resources.files("stagebox") / "data" / "pinmap.toml"))


def load_pinmap(path: str | Path | None = None) -> PinMap:
    """Read and check a pin map; the packaged one when `path` is None."""
    path = Path(path) if path is not None else default_pinmap_path()
    try:
        text = read_text_bounded(path, PINMAP_MAX_BYTES, "pin map")
    except FileRefused as exc:
        raise PinMapError(f"{exc.path}: cannot read the pin map: {exc.reason}") from None
    return parse_pinmap(text, str(path))


def parse_pinmap(text: str, path: str = "<pinmap>") -> PinMap:
    """Parse and check pin map TOML; `path` only labels the messages."""
    try:
        data = toml_loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PinMapError(f"{path}: not valid TOML: {exc}") from None
    lines = text.splitlines()
    entry_lines = [i + 1 for i, line in enumerate(lines) if _ENTRY.match(line)]
    extra = sorted(set(data) - {"pin"})
    if extra:
        raise PinMapError(f"{path}: unknown top-level key {extra[0]!r} (only [[pin]] entries)")
    entries = data.get("pin")
    if not isinstance(entries, list) or not entries:
        raise PinMapError(f"{path}: no [[pin]] entries")

    contexts = []  # each entry with the lines it spans, for messages
    for index, entry in enumerate(entries):
        first = entry_lines[index] if index < len(entry_lines) else 0
        end = entry_lines[index + 1] if index + 1 < len(entry_lines) else len(lines) + 1
        contexts.append(_EntryContext(path, index, first, end, lines, entry))
    pins = [ctx.check() for ctx in contexts]
    _check_unique(pins, contexts)
    present = {p.name for p in pins if p.function == "lamp"}
    for name in REQUIRED_LAMPS:
        if name not in present:
            raise PinMapError(f"{path}: no lamp named {name!r}: the stage needs it wired")
    return PinMap(path, tuple(pins))


class _EntryContext:
    """Checks one [[pin]] entry and words its errors with file, line, pin and field."""

    def __init__(self, path, index, first, end, lines, entry) -> None:
        self.path, self.index, self.first, self.end = path, index, first, end
        self.lines, self.entry = lines, entry

    def fail(self, field: str | None, why: str):
        name = self.entry.get("name") if isinstance(self.entry, dict) else None
        who = f"pin {name!r}" if isinstance(name, str) else f"pin entry {self.index + 1}"
        line = self.field_line(field) if field else self.first
        where = f"{self.path}:{line}" if line else self.path
        what = f"{who}, field {field!r}" if field else who
        raise PinMapError(f"{where}: {what}: {why}")

    def field_line(self, field: str) -> int:
        pattern = re.compile(rf"^\s*{re.escape(field)}\s*=")
        for number in range(self.first, min(self.end, len(self.lines) + 1)):
            if number >= 1 and pattern.match(self.lines[number - 1]):
                return number
        return self.first

    def choice(self, field: str, choices: tuple[str, ...]) -> str:
        value = self.entry[field]
        if value not in choices:
            self.fail(field, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def check(self) -> Pin:
        e = self.entry
        if not isinstance(e, dict):
            self.fail(None, "is not a table")
        for key in e:
            if key not in FIELDS:
                self.fail(key, f"unknown field (fields: {', '.join(FIELDS)})")
        for key in FIELDS:
            if key not in e:
                self.fail(None, f"missing field {key!r}")
        for key in ("name", "function", "direction", "active", "pull", "label"):
            if not isinstance(e[key], str):
                self.fail(key, f"must be a string, not {e[key]!r}")
        for key in ("bcm", "header"):
            if not isinstance(e[key], int) or isinstance(e[key], bool):
                self.fail(key, f"must be an integer, not {e[key]!r}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", e["name"]):
            self.fail("name", f"{e['name']!r} is not a lower-case identifier")
        function = self.choice("function", FUNCTIONS)
        direction = self.choice("direction", DIRECTIONS)
        active = self.choice("active", ACTIVE_LEVELS)
        pull = self.choice("pull", PULLS)
        bcm, header, name = e["bcm"], e["header"], e["name"]

        if bcm not in HEADER_PIN:
            self.fail("bcm", f"GPIO {bcm} is not on the 40-pin header (GPIO 0-27)")
        if bcm in RESERVED:
            self.fail("bcm", f"GPIO {bcm} is {RESERVED[bcm]}")
        if function == "i2c":
            if I2C_PINS.get(bcm) != name:
                self.fail("bcm", "I2C is GPIO 2 (i2c_sda) and GPIO 3 (i2c_scl) only")
        elif bcm in I2C_PINS:
            self.fail("bcm", f"GPIO {bcm} is I2C ({I2C_PINS[bcm]}): the OLED and HAT use it")
        if HEADER_PIN[bcm] != header:
            self.fail("header", f"GPIO {bcm} is header pin {HEADER_PIN[bcm]}, not {header}")
        if function == "lamp":
            if name not in LAMP_NAMES:
                self.fail("name", f"unknown lamp {name!r} (lamps: {', '.join(LAMP_NAMES)})")
            if direction != "out":
                self.fail("direction", 'a lamp is an output: direction = "out"')
            if pull != "none":
                self.fail("pull", 'an output has no pull: pull = "none"')
        elif function == "button":
            if name not in BUTTON_NAMES:
                self.fail("name", f"unknown button {name!r} (buttons: {', '.join(BUTTON_NAMES)})")
            if direction != "in":
                self.fail("direction", 'a button is an input: direction = "in"')
            # The pull sets the idle level; idle must be the released level, not the pressed one.
            if (active, pull) in (("low", "down"), ("high", "up")):
                self.fail(
                    "pull",
                    f"pull {pull} holds the pin at the pressed level (active {active}): "
                    f'use pull = "{"up" if active == "low" else "down"}" or "none"',
                )
        return Pin(name, bcm, header, function, direction, active, pull, e["label"])


def _check_unique(pins: list[Pin], contexts: list[_EntryContext]) -> None:
    for field in ("name", "bcm", "header"):
        seen: dict[object, int] = {}
        for index, pin in enumerate(pins):
            value = getattr(pin, field)
            if value in seen:
                other = pins[seen[value]]
                contexts[index].fail(field, f"{value!r} is also used by pin {other.name!r}")
            seen[value] = index
