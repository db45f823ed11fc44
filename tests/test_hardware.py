"""Real-hardware tests, all in one place: they run only on the stage's Raspberry Pi.

Run them on the Pi with the stage wired (lamps, buttons, front-panel OLED, audio HAT, HDMI
monitor), after `sudo ./install.sh` and a reboot, with `pytest -m hardware`. Everywhere else
(laptops, CI) each is skipped with its reason: the same code paths run there against the
simulated backends. Set STAGEBOX_AUDIO_DEVICE to the card's ALSA name if it is not a
HiFiBerry DAC+ ADC. The lamp tests switch the real lamps briefly. The doctor test stops and
restarts the service (run as root); with the DAW playing LTC set STAGEBOX_LTC=1 so that
doctor's LTC check is part of it. The MMC test uses the [daw] port of the stage's config
(STAGEBOX_MIDI_LOOPBACK: an input port cabled back from it, to read the bytes back).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from stagebox.audio.alsa import AlsaBackend
from stagebox.config import load_config
from stagebox.display.kmsdrm import connected_problem, connector_states
from stagebox.gpio.pinmap import load_pinmap
from stagebox.hats import pinmap_path

ROOT = Path(__file__).resolve().parent.parent


def _pi_model() -> str:
    try:
        return Path("/proc/device-tree/model").read_text().rstrip("\x00")
    except OSError:
        return ""


ON_PI = "Raspberry Pi" in _pi_model()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not ON_PI, reason="real hardware: needs the stage's Raspberry Pi"),
]


# -- Lamps and buttons (RPi.GPIO) and the front-panel OLED (I2C) -------------------------------
def test_rpigpio_lamps_follow_their_active_level():
    from stagebox.gpio.backend import open_backend
    from stagebox.gpio.lamps import Lamps

    pinmap = load_pinmap(pinmap_path(load_config()))
    backend = open_backend("rpigpio")
    try:
        lamps = Lamps(backend, pinmap)
        for name, pin in pinmap.lamps.items():
            assert backend.read(pin) == pin.level_for(False)
            lamps.set(name, True)
            time.sleep(0.2)
            assert backend.read(pin) == pin.level_for(True)
            lamps.set(name, False)
            assert backend.read(pin) == pin.level_for(False)
    finally:
        backend.close()


def test_rpigpio_buttons_rest_released():
    from stagebox.gpio.backend import open_backend
    from stagebox.gpio.buttons import Buttons

    pinmap = load_pinmap(pinmap_path(load_config()))
    backend = open_backend("rpigpio")
    try:
        Buttons(backend, pinmap, print)
        for pin in pinmap.buttons.values():
            assert not pin.is_on(backend.read(pin)), f"{pin.name} reads pressed at rest"
    finally:
        backend.close()


def test_oled_on_real_i2c():
    from stagebox.panel.framebuffer import Framebuffer
    from stagebox.panel.ssd1306 import OLED

    device = OLED(controller=load_config().panel.controller)  # SSD1306 or SH1106
    device.open()
    fb = Framebuffer()
    fb.draw_text(0, 0, "STAGEBOX HW TEST", scale=1)
    assert device.show(fb) == 8 * 128  # the first frame is sent whole
    assert device.show(fb) == 0  # nothing changed
    device.close()


# -- The ALSA backend on the audio HAT ---------------------------------------------------------
DEVICE = os.environ.get("STAGEBOX_AUDIO_DEVICE", "hw:CARD=sndrpihifiberry,DEV=0")


def test_five_seconds_of_capture_and_playback_without_xruns():
    backend = AlsaBackend(
        DEVICE,
        DEVICE,
        sample_rate=48000,
        format="S32_LE",
        period=256,
        periods=3,
        realtime_priority=70,
    )
    blocks = []
    with backend:
        for _ in range(5 * 48000 // 256):
            blocks.append(backend.read())
            backend.write(np.zeros((256, 2), np.float32))
    assert backend.xruns == 0
    assert [b.position for b in blocks] == [i * 256 for i in range(len(blocks))]
    fit = backend.time_map.fit()
    assert abs(fit.rate / 48000 - 1) < 200e-6  # the ADC crystal against the Pi's clock


# -- The streamer screen: KMS/DRM on the HDMI monitor ------------------------------------------
def test_kmsdrm_shows_streamers_at_the_monitor_refresh():
    from stagebox.display.config import DisplayConfig
    from stagebox.display.process import DisplayLoop

    assert connected_problem(connector_states()) == "", "connect the HDMI monitor"
    statuses = []
    config = DisplayConfig(backend="kmsdrm")
    loop = DisplayLoop(config, lambda: None, statuses.append, lambda: False)
    started = time.monotonic()
    loop.stopping = lambda: loop.status.frames >= 120
    assert loop.run() == 0
    elapsed = time.monotonic() - started
    showing = [s for s in statuses if s.state == "showing"]
    assert showing, [s.message for s in statuses]
    refresh = showing[0].refresh_hz
    # 120 presents paced by the page flip take about 120 refreshes, not as fast as possible.
    assert elapsed > 0.8 * 120 / refresh


# -- The installed appliance: firmware, pins at power-on, unit, sound card ---------------------
INSTALLED = Path("/etc/systemd/system/stagebox.service").is_file()


def test_firmware_lines_are_in_the_boot_config():
    boot = Path("/boot/firmware/config.txt")
    text = boot.read_text()
    for line in (ROOT / "firmware" / "config.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.search(rf"^{re.escape(line)}$", text, re.M), f"{boot} lacks {line}"


def test_pins_are_in_their_power_on_state():
    if shutil.which("pinctrl") is None:
        pytest.fail("pinctrl (Raspberry Pi OS bookworm's raspi-utils) is missing")
    pinmap = load_pinmap(pinmap_path(load_config()))
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


# -- The installed service on the real GPIO stack, and stagebox doctor -------------------------
VENV_BIN = Path("/opt/stagebox/venv/bin")


def _systemctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemctl", *args], capture_output=True, text=True)


def test_installed_service_runs_on_rpi_lgpio():
    if not INSTALLED:
        pytest.fail("stagebox is not installed: run sudo ./install.sh first")
    versions = subprocess.run(
        [str(VENV_BIN / "python"), "-c",
         "from importlib.metadata import version as v\n"
         "import RPi.GPIO\n"
         "print(v('rpi-lgpio'))"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert versions.returncode == 0, versions.stderr  # RPi.GPIO imports: rpi-lgpio under it
    assert _systemctl("is-active", "stagebox.service").stdout.strip() == "active"
    log = subprocess.run(
        ["journalctl", "-u", "stagebox", "-b", "--no-pager", "-o", "cat"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "cannot start" not in log and "carrying on without buttons" not in log, log[-2000:]
    # lgpio made its notification pipe in the unit's writable working directory
    assert list(Path("/run/stagebox").glob(".lgd-nfy*")), "lgpio has no pipe in /run/stagebox"


def _doctor(*args: str) -> dict:
    out = subprocess.run(
        [str(VENV_BIN / "stagebox"), "doctor", "--json", *args], capture_output=True, text=True
    )
    return json.loads(out.stdout)


def test_doctor_passes_on_the_stage():
    if os.geteuid() != 0:
        pytest.skip("stops and restarts the service: run the hardware tests as root")
    _systemctl("stop", "stagebox.service")
    try:
        skip = "latency,buttons" + ("" if os.environ.get("STAGEBOX_LTC") else ",ltc")
        report = _doctor("--skip", skip, "--disk-mb", "64")
    finally:
        _systemctl("start", "stagebox.service")
    failed = [r for r in report["results"] if r["status"] == "FAIL"]
    assert not failed, failed


def test_doctor_bench_figures():
    numbers = _doctor("--bench")
    assert numbers["machine"] == "aarch64"
    assert numbers["engine_pct_of_core"] < 25  # a quarter of one core at most on a Pi 4
    assert numbers["decoder_pct_of_core"] < numbers["engine_pct_of_core"]
    assert numbers["frame_ms_p99"] < 1000 / 60  # a frame is drawn within one 60 Hz refresh


def test_the_running_service_has_its_memory_locked():
    pid = _systemctl("show", "-p", "MainPID", "--value", "stagebox.service").stdout.strip()
    assert pid and pid != "0", "the service is not running"
    status = Path(f"/proc/{pid}/status").read_text()
    locked_kb = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmLck:")))
    assert locked_kb > 10_000, status  # mlockall took: tens of MB of Python and numpy


def test_the_hat_is_the_only_sound_card():
    # dtparam=audio=off and vc4-kms-v3d,noaudio: no jack, no HDMI card beside the HAT's
    cards = Path("/proc/asound/cards").read_text()
    ids = re.findall(r"^\s*\d+\s+\[(\S+)\s*\]", cards, re.M)
    assert len(ids) == 1, cards


# -- MIDI Machine Control to the DAW -----------------------------------------------------------
def test_mmc_reaches_the_configured_midi_port():
    """The [daw] port opens and takes a STOP; with a MIDI cable looped from the interface's
    OUT to its IN and STAGEBOX_MIDI_LOOPBACK naming the input port (`aconnect -i`), the bytes
    are read back as sent."""
    from stagebox.daw import mmc
    from stagebox.daw.backend import open_output

    daw = load_config().daw
    if not daw.enabled:
        pytest.skip("[daw] enabled = false in the stage's config: no MIDI port to test")
    loopback = os.environ.get("STAGEBOX_MIDI_LOOPBACK")
    listener = None
    if loopback:
        import rtmidi

        from stagebox.daw.alsa import choose_port

        listener = rtmidi.MidiIn(rtmidi.API_LINUX_ALSA, name="stagebox-hw-test")
        listener.ignore_types(sysex=False)
        listener.open_port(choose_port(listener.get_ports(), loopback))
    out = open_output(daw.backend, daw.port)
    try:
        out.send(mmc.stop(daw.device_id))
    finally:
        out.close()
    if listener is not None:
        deadline = time.monotonic() + 1.0
        message = None
        while message is None and time.monotonic() < deadline:
            message = listener.get_message()
            time.sleep(0.005)
        listener.close_port()
        assert message is not None, f"nothing came back on {loopback}"
        assert bytes(message[0]) == bytes([0xF0, 0x7F, daw.device_id, 0x06, 0x01, 0xF7])
