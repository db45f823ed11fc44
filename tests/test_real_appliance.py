"""Real-hardware checks of an installed stage Pi: firmware lines applied, pins at their power-on
state, the service installed as shipped, the configured sound card present.

Run on the stage's Pi after `sudo ./install.sh` and a reboot (`pytest -m hardware`). Everywhere
else they are skipped with the reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stagebox.config import load_config
from stagebox.gpio.pinmap import load_pinmap

ROOT = Path(__file__).resolve().parent.parent


def _pi_model() -> str:
    try:
        return Path("/proc/device-tree/model").read_text().rstrip("\x00")
    except OSError:
        return ""


ON_PI = "Raspberry Pi" in _pi_model()
INSTALLED = Path("/etc/systemd/system/stagebox.service").is_file()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not ON_PI, reason="needs a Raspberry Pi"),
    pytest.mark.skipif(not INSTALLED, reason="needs stagebox installed with install.sh"),
]


def test_firmware_lines_are_in_the_boot_config():
    boot = Path("/boot/firmware/config.txt")
    text = boot.read_text()
    for line in (ROOT / "firmware" / "config.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.search(rf"^{re.escape(line)}$", text, re.M), f"{boot} lacks {line}"


def test_pins_are_in_their_power_on_state():
    if shutil.which("pinctrl") is None:
        pytest.fail("pinctrl (Raspberry Pi OS bookworm's raspi-utils) is missing")
    pinmap = load_pinmap()
    for pin in pinmap.buttons.values():
        out = subprocess.run(["pinctrl", "get", str(pin.bcm)], capture_output=True, text=True)
        assert " ip " in out.stdout and " pu " in out.stdout, out.stdout


def test_installed_unit_is_the_shipped_one_and_enabled():
    installed = Path("/etc/systemd/system/stagebox.service").read_text()
    assert installed == (ROOT / "systemd" / "stagebox.service").read_text()
    enabled = subprocess.run(["systemctl", "is-enabled", "stagebox.service"], capture_output=True)
    assert enabled.returncode == 0


def test_configured_capture_device_exists():
    cfg = load_config()
    card = re.search(r"CARD=([^,]+)", cfg.audio.capture_device)
    assert card, cfg.audio.capture_device
    cards = Path("/proc/asound/cards").read_text()
    assert f"[{card[1]}]" in cards.replace(" ", ""), cards
