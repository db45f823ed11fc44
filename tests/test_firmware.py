"""firmware/config.txt, hardware/pinmap.toml and the wiring docs agree on every pin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from stagebox.config import Config
from stagebox.gpio.pinmap import load_pinmap

ROOT = Path(__file__).resolve().parent.parent
CONFIG_TXT = ROOT / "firmware" / "config.txt"
PINMAP = ROOT / "hardware" / "pinmap.toml"

# The Pi's 40-pin header: physical pin -> BCM GPIO (from the Raspberry Pi pinout), written
# out here independently of the pin map so a wrong header number in the map is caught.
HEADER_TO_BCM = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10,
    21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
    36: 16, 37: 26, 38: 20, 40: 21,
}  # fmt: skip
I2S_PINS = {18, 19, 20, 21}  # PCM clock, frame, data in, data out: the audio HAT's


def pins() -> list[dict]:
    return tomllib.loads(PINMAP.read_text())["pin"]


def expand(spec: str) -> list[int]:
    """`17,27,22` or `5-7` (config.txt's GPIO list syntax) -> [17, 27, 22] / [5, 6, 7]."""
    out = []
    for part in spec.split(","):
        if "-" in part:
            first, last = (int(x) for x in part.split("-"))
            out.extend(range(first, last + 1))
        else:
            out.append(int(part))
    return out


def gpio_states(text: str) -> dict[int, set[str]]:
    """Parse every active `gpio=LIST=OPTIONS` line: BCM pin -> its options (op, dl, pu...)."""
    states: dict[int, set[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"gpio=([\d,\-]+)=([a-z0-9,]+)", line)
        if match:
            for pin in expand(match[1]):
                states.setdefault(pin, set()).update(match[2].split(","))
    return states


def active_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_every_lamp_powers_up_off_and_every_button_pulled():
    states = gpio_states(CONFIG_TXT.read_text())
    listed = set()
    for pin in pins():
        bcm = pin["bcm"]
        if pin["function"] == "lamp":
            off_level = "dl" if pin["active"] == "high" else "dh"
            assert states.get(bcm) == {"op", off_level}, f"{pin['name']} (GPIO {bcm})"
            listed.add(bcm)
        elif pin["function"] == "button":
            pull = {"up": "pu", "down": "pd", "none": "pn"}[pin["pull"]]
            assert states.get(bcm) == {"ip", pull}, f"{pin['name']} (GPIO {bcm})"
            # a button pulled up must be active low (pressed = shorted to ground) and back
            assert (pin["pull"], pin["active"]) in {("up", "low"), ("down", "high")}
            listed.add(bcm)
    # config.txt sets no pin the map does not know about
    assert set(states) == listed


def test_i2c_pins_are_enabled_by_the_i2c_overlay():
    lines = active_lines(CONFIG_TXT.read_text())
    i2c = {p["bcm"] for p in pins() if p["function"] == "i2c"}
    assert i2c == {2, 3}  # i2c_arm is GPIO 2 (SDA) and 3 (SCL)
    assert "dtparam=i2c_arm=on" in lines
    assert not i2c & set(gpio_states(CONFIG_TXT.read_text()))


def test_one_audio_overlay_and_onboard_audio_off():
    lines = active_lines(CONFIG_TXT.read_text())
    overlays = [ln for ln in lines if ln.startswith("dtoverlay=")]
    assert overlays == ["dtoverlay=hifiberry-dacplusadcpro"]
    assert "dtparam=audio=off" in lines
    assert lines[0] == "[all]"


def test_pin_map_header_numbers_and_no_clash_with_the_hat():
    seen_bcm, seen_header = set(), set()
    for pin in pins():
        assert HEADER_TO_BCM[pin["header"]] == pin["bcm"], pin["name"]
        assert pin["bcm"] not in I2S_PINS, f"{pin['name']} is on the audio HAT's I2S pins"
        assert pin["bcm"] not in seen_bcm and pin["header"] not in seen_header, pin["name"]
        seen_bcm.add(pin["bcm"])
        seen_header.add(pin["header"])
        expected_direction = "out" if pin["function"] == "lamp" else "in"
        assert pin["direction"] == expected_direction, pin["name"]


def test_wiring_table_matches_the_pin_map():
    text = (ROOT / "hardware" / "wiring.md").read_text()
    start = text.index("<!-- pin table -->")
    end = text.index("<!-- /pin table -->")
    rows = [ln for ln in text[start:end].splitlines() if ln.startswith("|")][2:]
    table = {}
    for row in rows:
        cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
        name, bcm, header, function, active, pull = cells[:6]
        table[name] = (int(bcm.removeprefix("GPIO ")), int(header), function, active, pull)
    expected = {
        p["name"]: (p["bcm"], p["header"], p["function"], p["active"], p["pull"]) for p in pins()
    }
    assert table == expected


def test_firmware_comments_name_the_same_pins():
    # the human comments above each gpio= line list the lamps and buttons by name and number
    text = CONFIG_TXT.read_text()
    for pin in pins():
        if pin["function"] in ("lamp", "button"):
            assert f"{pin['name']} ({pin['bcm']})" in text, pin["name"]


def test_the_code_reads_the_same_map_and_powers_lamps_up_off():
    # The lights code's default map (lights.pinmap = "": the packaged one) is this file, and
    # the level it calls "off" for each lamp is the level config.txt drives from power-on.
    code_map = load_pinmap(Config().lights.pinmap)
    by_name = {p["name"]: p for p in pins()}
    assert [p.name for p in code_map.pins] == list(by_name)
    states = gpio_states(CONFIG_TXT.read_text())
    for name, pin in code_map.lamps.items():
        assert pin.bcm == by_name[name]["bcm"]
        off = "dh" if pin.level_for(False) else "dl"
        assert off in states[pin.bcm], name
    for name, pin in code_map.buttons.items():
        assert pin.bcm == by_name[name]["bcm"]
        assert {"up": "pu", "down": "pd", "none": "pn"}[pin.pull] in states[pin.bcm], name
