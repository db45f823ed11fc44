"""The pin map loader: the shipped file, its packaging, and errors that point at the mistake."""

from __future__ import annotations

import tomllib

import pytest
from gpio_helpers import PINMAP_PATH, PINMAP_TEXT, ROOT, edit_pin

from stagebox.gpio.pinmap import PinMapError, default_pinmap_path, load_pinmap, parse_pinmap


def test_default_pinmap_is_the_hardware_file():
    """One source: the packaged file is hardware/pinmap.toml (a link in the checkout)."""
    packaged = default_pinmap_path()
    assert packaged.resolve() == PINMAP_PATH.resolve()
    link = ROOT / "stagebox" / "data" / "pinmap.toml"
    assert link.is_symlink(), "stagebox/data/pinmap.toml must stay a link to hardware/"
    assert packaged.read_bytes() == PINMAP_PATH.read_bytes()


def test_loaded_pins_match_the_toml():
    raw = tomllib.loads(PINMAP_TEXT)["pin"]
    pinmap = load_pinmap()
    assert [(p.name, p.bcm, p.header, p.function) for p in pinmap.pins] == [
        (e["name"], e["bcm"], e["header"], e["function"]) for e in raw
    ]
    assert list(pinmap.lamps) == [e["name"] for e in raw if e["function"] == "lamp"]
    assert list(pinmap.buttons) == [e["name"] for e in raw if e["function"] == "button"]
    assert {"cue_light", "record_light"} <= set(pinmap.lamps)
    assert set(pinmap.buttons) == {
        "record",
        "safe",
        "rehearse",
        "next_cue",
        "previous_cue",
        "circle",
        "talkback",
    }


def test_active_levels():
    pinmap = load_pinmap()
    cue = pinmap.pin("cue_light")  # active high in the shipped map
    assert cue.level_for(True) is True and cue.level_for(False) is False
    rec = pinmap.pin("record")  # active low, pulled up
    assert rec.level_for(True) is False and rec.is_on(False) is True


def _line_of(text: str, needle: str, start_after: str) -> int:
    """1-based line of the first `needle` line after the line containing `start_after`."""
    lines = text.splitlines()
    begin = next(i for i, line in enumerate(lines) if start_after in line)
    return next(i for i in range(begin, len(lines)) if lines[i].startswith(needle)) + 1


@pytest.mark.parametrize(
    "pin, field, value, words",
    [
        ("cue_light", "bcm", "18", ["'bcm'", "I2S"]),
        ("record_light", "bcm", "20", ["'bcm'", "I2S"]),
        ("safe", "bcm", "14", ["'bcm'", "serial console"]),
        ("cue_light", "bcm", "2", ["'bcm'", "I2C"]),
        ("cue_light", "bcm", "30", ["'bcm'", "not on the 40-pin header"]),
        ("cue_light", "header", "12", ["'header'", "GPIO 17 is header pin 11"]),
        ("safe", "function", '"motor"', ["'function'", "'motor'", "lamp, button, i2c"]),
        ("safe", "direction", '"out"', ["'direction'", "input"]),
        ("cue_light", "active", '"medium"', ["'active'", "'medium'"]),
        ("safe", "pull", '"down"', ["'pull'", "pressed level"]),
        ("cue_light", "pull", '"up"', ["'pull'", "output has no pull"]),
        ("cue_light", "bcm", '"17"', ["'bcm'", "must be an integer"]),
        ("safe", "name", '"panic"', ["'name'", "unknown button 'panic'"]),
    ],
)
def test_errors_name_file_line_pin_and_field(pin, field, value, words):
    text = edit_pin(PINMAP_TEXT, pin, field, value)
    with pytest.raises(PinMapError) as info:
        parse_pinmap(text, "stage/pinmap.toml")
    message = str(info.value)
    # The line is the edited field's line in the entry that was edited.
    line = _line_of(text, f"{field} = {value}", f'name = "{pin if field != "name" else "panic"}"')
    if field == "name":
        line = _line_of(text, "name = ", 'name = "panic"')
    assert message.startswith(f"stage/pinmap.toml:{line}: "), message
    shown = "panic" if field == "name" else pin
    assert f"pin '{shown}'" in message
    for word in words:
        assert word in message, message


def test_unknown_and_missing_fields():
    text = PINMAP_TEXT.replace('label = "SAFE"', 'label = "SAFE"\ncolour = "red"')
    with pytest.raises(PinMapError, match=r"pin 'safe', field 'colour': unknown field"):
        parse_pinmap(text, "p.toml")
    text = PINMAP_TEXT.replace('label = "SAFE"\n', "")
    with pytest.raises(PinMapError, match=r"p.toml:\d+: pin 'safe': missing field 'label'"):
        parse_pinmap(text, "p.toml")


def test_required_lamp_and_bad_toml(tmp_path):
    no_cue = edit_pin(PINMAP_TEXT, "cue_light", "function", '"button"')
    with pytest.raises(PinMapError):
        parse_pinmap(no_cue, "p.toml")
    bad = tmp_path / "pins.toml"
    bad.write_text("[[pin]\nname = 1\n")
    with pytest.raises(PinMapError, match=rf"{bad}: not valid TOML"):
        load_pinmap(bad)
    with pytest.raises(PinMapError, match="cannot read"):
        load_pinmap(tmp_path / "missing.toml")
    blocks = PINMAP_TEXT.split("[[pin]]")
    without_cue = "[[pin]]".join(b for b in blocks if 'name = "cue_light"' not in b)
    with pytest.raises(PinMapError, match="p.toml: no lamp named 'cue_light'"):
        parse_pinmap(without_cue, "p.toml")


def test_duplicate_bcm_points_at_second_entry():
    text = edit_pin(edit_pin(PINMAP_TEXT, "record", "bcm", "17"), "record", "header", "11")
    line = _line_of(text, "bcm = 17", 'name = "record"')
    with pytest.raises(PinMapError) as info:
        parse_pinmap(text, "p.toml")
    assert str(info.value) == (
        f"p.toml:{line}: pin 'record', field 'bcm': 17 is also used by pin 'cue_light'"
    )


def test_duplicate_name_points_at_second_entry():
    text = edit_pin(PINMAP_TEXT, "safe", "name", '"rehearse"')
    with pytest.raises(PinMapError, match=r"pin 'rehearse', field 'name': 'rehearse' is also"):
        parse_pinmap(text, "p.toml")
