"""Audio HAT profiles: the pin map is checked against the HAT's own GPIOs, the audio devices
against its card and channels; each profile's default pin map starts cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagebox.config import ConfigError, config_from_dict, config_from_text
from stagebox.gpio.pinmap import load_pinmap
from stagebox.hats import PROFILES, clashes, default_pinmap_path, pinmap_path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAP = ROOT / "hardware" / "pinmap.toml"


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "stagebox.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        config_from_text(text, path)
    return [str(p) for p in err.value.problems]


def test_the_default_pin_map_on_a_pisound_is_refused_naming_both_uses(tmp_path):
    text = (
        '[audio]\nhat = "pisound"\ncapture_device = "hw:CARD=pisound,DEV=0"\n'
        'playback_device = "hw:CARD=pisound,DEV=0"\n'
        f'[lights]\npinmap = "{DEFAULT_MAP}"\n'
    )
    found = problems(text, tmp_path)
    # cue light (17) on the Pisound's button; five buttons on its reset and OSR lines
    assert len(found) == 6, found
    first = found[0]
    assert "stagebox.toml:6: lights.pinmap:" in first
    assert "GPIO 17 (header pin 11) is cue_light (Cue light (booth))" in first
    assert "the Pisound's button (button-gpios) on the Blokas Pisound" in first
    bcms = sorted(int(p.split("GPIO ")[1].split(" ")[0]) for p in found)
    assert bcms == [12, 13, 16, 17, 24, 26]


def test_the_codec_zero_button_and_the_record_light(tmp_path):
    text = (
        '[audio]\nhat = "codec-zero"\ncapture_device = "hw:CARD=IQaudIOCODEC,DEV=0"\n'
        'playback_device = "hw:CARD=IQaudIOCODEC,DEV=0"\n'
        f'[lights]\npinmap = "{DEFAULT_MAP}"\n'
    )
    (found,) = problems(text, tmp_path)
    assert "GPIO 27 (header pin 13) is record_light" in found
    assert "on-board push button" in found


@pytest.mark.parametrize("hat", sorted(PROFILES))
def test_each_profile_starts_with_its_own_pin_map(hat):
    card = PROFILES[hat].card or "USB"
    cfg = config_from_dict(
        {
            "audio": {
                "hat": hat,
                "capture_device": f"hw:CARD={card},DEV=0",
                "playback_device": f"hw:CARD={card},DEV=0",
            }
        }
    )
    assert pinmap_path(cfg) == default_pinmap_path(hat)
    pinmap = load_pinmap(pinmap_path(cfg))
    assert clashes(PROFILES[hat], pinmap) == []
    assert {"cue_light", "record_light"} <= set(pinmap.lamps)
    assert {"record", "safe", "next_cue", "previous_cue"} <= set(pinmap.buttons)


def test_the_audio_devices_must_name_the_hats_card(tmp_path):
    found = problems('[audio]\nhat = "pisound"\n', tmp_path)
    assert len(found) == 2
    assert "audio.capture_device" in found[0]
    assert "names ALSA card 'sndrpihifiberry' but the Blokas Pisound" in found[0]
    assert "hw:CARD=pisound,DEV=0" in found[0]


def test_more_channels_than_the_hat_has_are_refused(tmp_path):
    found = problems("[audio]\ncapture_channels = 4\nltc_channel = 3\n", tmp_path)
    assert len(found) == 1
    assert "stagebox.toml:2: audio.capture_channels:" in found[0]
    assert "4 channels but the HiFiBerry DAC+ ADC Pro has 2 capture channels" in found[0]
    # a USB interface has the channels it has
    cfg = config_from_dict({"audio": {"hat": "usb", "capture_channels": 4, "ltc_channel": 3}})
    assert cfg.audio.capture_channels == 4


def test_an_unreadable_pin_map_is_a_config_error(tmp_path):
    bad = tmp_path / "pins.toml"
    bad.write_text("[[pin]]\nname = 3\n")
    found = problems(f'[lights]\npinmap = "{bad}"\n', tmp_path)
    assert len(found) == 1 and "lights.pinmap" in found[0] and str(bad) in found[0]
