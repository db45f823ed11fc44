"""firmware/config.txt, hardware/pinmap.toml and the wiring docs agree on every pin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from stagebox.config import Config
from stagebox.gpio.pinmap import load_pinmap
from stagebox.hats import PROFILES

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


def pins(pinmap: Path = PINMAP) -> list[dict]:
    return tomllib.loads(pinmap.read_text())["pin"]


# Each HAT profile: its config.txt fragment and its pin map, which must agree.
FRAGMENTS = sorted({(p.firmware, p.pinmap) for p in PROFILES.values()})


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


@pytest.mark.parametrize("fragment, pinmap", FRAGMENTS)
def test_every_lamp_powers_up_off_and_every_button_pulled(fragment, pinmap):
    states = gpio_states((ROOT / "firmware" / fragment).read_text())
    listed = set()
    for pin in pins(ROOT / "hardware" / pinmap):
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


@pytest.mark.parametrize("fragment, pinmap", FRAGMENTS)
def test_i2c_pins_are_enabled_by_the_i2c_overlay(fragment, pinmap):
    text = (ROOT / "firmware" / fragment).read_text()
    lines = active_lines(text)
    i2c = {p["bcm"] for p in pins(ROOT / "hardware" / pinmap) if p["function"] == "i2c"}
    assert i2c == {2, 3}  # i2c_arm is GPIO 2 (SDA) and 3 (SCL)
    assert "dtparam=i2c_arm=on" in lines
    assert not i2c & set(gpio_states(text))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_one_audio_overlay_and_onboard_audio_off(name):
    hat = PROFILES[name]
    lines = active_lines((ROOT / "firmware" / hat.firmware).read_text())
    overlays = [ln for ln in lines if ln.startswith("dtoverlay=")]
    # the HAT's own overlay (none for USB), and KMS with HDMI audio removed: under the KMS
    # driver dtparam=audio=off leaves HDMI audio in place, vc4-kms-v3d's noaudio removes it
    # (raspberrypi/linux arch/arm/boot/dts/overlays/README, vc4-kms-v3d: "noaudio")
    expected = [f"dtoverlay={hat.dtoverlay}"] if hat.dtoverlay else []
    assert overlays == [*expected, "dtoverlay=vc4-kms-v3d,noaudio"]
    assert "dtparam=audio=off" in lines  # the 3.5 mm jack (snd_bcm2835)
    assert lines[0] == "[all]"


def test_the_default_fragment_is_the_default_hats():
    assert PROFILES[Config().audio.hat].firmware == "config.txt"
    assert PROFILES[Config().audio.hat].pinmap == "pinmap.toml"


# The GPIOs each HAT takes, written out here from the overlay sources (raspberrypi/linux,
# arch/arm/boot/dts/overlays/pisound-overlay.dts: osr-gpios 13 26 16, reset-gpios 12 24,
# data_available-gpios 25, button-gpios 17, spi0) and the Codec Zero's documentation
# (raspberrypi/documentation accessories/audio/getting_started.adoc: the on-board button "is
# pre-wired to GPIO 27"), independently of stagebox.hats.
HAT_GPIOS = {
    "pisound": {12, 13, 16, 17, 24, 25, 26, 7, 8, 9, 10, 11},
    "codec-zero": {27},
}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_hats_pin_map_keeps_off_its_pins(name):
    hat = PROFILES[name]
    assert set(hat.claims) == HAT_GPIOS.get(name, set())
    used = {p["bcm"] for p in pins(ROOT / "hardware" / hat.pinmap)}
    assert not used & HAT_GPIOS.get(name, set())
    # the packaged copy is the same file (a link), so the code reads what the docs show
    packaged = ROOT / "stagebox" / "data" / hat.pinmap
    assert packaged.is_symlink() and packaged.resolve() == (ROOT / "hardware" / hat.pinmap)


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


@pytest.mark.parametrize(
    "marker, pinmap",
    [
        ("", "pinmap.toml"),
        (" codec-zero", "pinmap-codec-zero.toml"),
        (" pisound", "pinmap-pisound.toml"),
    ],
)
def test_wiring_table_matches_the_pin_map(marker, pinmap):
    text = (ROOT / "hardware" / "wiring.md").read_text()
    start = text.index(f"<!-- pin table{marker} -->")
    end = text.index(f"<!-- /pin table{marker} -->")
    rows = [ln for ln in text[start:end].splitlines() if ln.startswith("|")][2:]
    table = {}
    for row in rows:
        cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
        name, bcm, header, function, active, pull = cells[:6]
        table[name] = (int(bcm.removeprefix("GPIO ")), int(header), function, active, pull)
    expected = {
        p["name"]: (p["bcm"], p["header"], p["function"], p["active"], p["pull"])
        for p in pins(ROOT / "hardware" / pinmap)
    }
    assert table == expected


@pytest.mark.parametrize("fragment, pinmap", FRAGMENTS)
def test_firmware_comments_name_the_same_pins(fragment, pinmap):
    # the human comments above each gpio= line list the lamps and buttons by name and number
    text = (ROOT / "firmware" / fragment).read_text()
    for pin in pins(ROOT / "hardware" / pinmap):
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


def test_the_schematic_names_each_hats_moved_pins():
    # the schematic's note on the HAT pin maps names every lamp and button GPIO they use
    svg = (ROOT / "hardware" / "schematic.svg").read_text()
    note = " ".join(re.findall(r">(HAT pin maps:[^<]*|buttons [^<]*pinmap-\*\.toml\.)<", svg))
    for name in ("codec-zero", "pisound"):
        moved = {
            p["bcm"]
            for p in pins(ROOT / "hardware" / PROFILES[name].pinmap)
            if p["function"] != "i2c"
        } - {p["bcm"] for p in pins()}
        for bcm in moved:
            assert re.search(rf"\b{bcm}\b", note), (name, bcm)
