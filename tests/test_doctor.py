"""`stagebox doctor`: every check against a fake Pi (files under a root folder) and simulated
devices, for its PASS and for its FAIL."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from doctor_fakes import (
    CARD_HDMI,
    CARDS_HIFIBERRY,
    ROOT,
    LoopbackSim,
    free_lines,
    pi_root,
    write,
)
from ssd1306_emulator import FakeSSD1306Bus

from stagebox.audio import AudioError
from stagebox.config import config_from_dict, load_config
from stagebox.doctor import audio, disk, display, gpio, hat, lineinfo, panel, sandbox, system
from stagebox.doctor.context import Context
from stagebox.doctor.lineinfo import LineInfo, parse_line_info
from stagebox.doctor.machine import Machine
from stagebox.doctor.report import FAIL, PASS, SKIP, WARN, Result, render_table
from stagebox.gpio import sim as gpio_sim
from stagebox.ltc.encoder import generate
from stagebox.panel.ssd1306 import OLED
from stagebox.sim.audio import SimBackend
from stagebox.timecode import Rate, Timecode


def make_ctx(tmp_path: Path, root: Path | None = None, **overrides) -> Context:
    settings = {"takes.folder": str(tmp_path / "takes"), **overrides.pop("config", {})}
    (tmp_path / "takes").mkdir(exist_ok=True)
    cfg = config_from_dict({}, overrides=settings)
    defaults = dict(
        machine=Machine(root or pi_root(tmp_path), arch=("aarch64", 64)),
        installed=lambda name: {"rpi-lgpio": "0.6"}.get(name),
        line_info=lambda machine: free_lines(),
        open_gpio=lambda name: gpio_sim.Backend(),
        sleep=lambda s: None,
        say=lambda text: None,
    )
    return Context(cfg, **{**defaults, **overrides})


# -- the report ------------------------------------------------------------------------------


def test_the_table_gives_each_failure_its_fix_and_counts():
    table = render_table(
        [
            Result("model", PASS, "Raspberry Pi 4 Model B Rev 1.5"),
            Result("sound card", FAIL, "no ALSA card 'pisound'", "seat the HAT"),
        ]
    )
    lines = table.splitlines()
    assert lines[2].split() == ["PASS", "model", "Raspberry", "Pi", "4", "Model", "B", "Rev", "1.5"]
    assert lines[3].startswith("FAIL   sound card  no ALSA card 'pisound'")
    assert lines[4].strip() == "fix: seat the HAT"
    assert lines[-1] == "1 PASS, 1 FAIL"


# -- the computer ----------------------------------------------------------------------------


def test_model(tmp_path):
    ctx = make_ctx(tmp_path)
    assert system.check_model(ctx).status == PASS
    write(ctx.machine.root, "/proc/device-tree/model", b"Raspberry Pi 3 Model B Rev 1.2\0")
    assert system.check_model(ctx).status == WARN
    (ctx.machine.root / "proc/device-tree/model").unlink()
    result = system.check_model(ctx)
    assert result.status == FAIL and "ProcSubset=pid" in result.fix


def test_64_bit_os(tmp_path):
    ctx = make_ctx(tmp_path)
    assert system.check_os(ctx).status == PASS
    ctx.machine.arch = ("armv7l", 32)
    result = system.check_os(ctx)
    assert result.status == FAIL and "armv7l, 32-bit userland" in result.detail
    ctx.machine.arch = ("aarch64", 32)  # 64-bit kernel, 32-bit userland
    assert system.check_os(ctx).status == FAIL
    ctx.machine.arch = ("aarch64", 64)
    write(ctx.machine.root, "/etc/os-release", "VERSION_CODENAME=bullseye\n")
    assert system.check_os(ctx).status == WARN


def test_kernel_and_the_gpio_library(tmp_path):
    ctx = make_ctx(tmp_path)
    assert system.check_kernel(ctx).detail == "6.6.51+rpt-rpi-v8"
    assert system.check_gpio_library(ctx).status == PASS
    ctx.installed = lambda name: {"RPi.GPIO": "0.7.1"}.get(name)
    result = system.check_gpio_library(ctx)
    assert result.status == FAIL
    assert "cannot set up edge detection on kernel 6.6+ (raspberrypi/linux#6037)" in result.detail
    ctx.installed = lambda name: None
    assert system.check_gpio_library(ctx).status == FAIL
    (ctx.machine.root / "proc/sys/kernel/osrelease").unlink()
    assert system.check_kernel(ctx).status == FAIL


# -- the HAT -----------------------------------------------------------------------------------


def test_overlay_as_install_sh_leaves_it(tmp_path):
    ctx = make_ctx(tmp_path)
    result = hat.check_overlay(ctx)
    assert result.status == PASS, result
    assert "dtoverlay=hifiberry-dacplusadcpro" in result.detail


def test_overlay_missing_another_hats_or_hdmi_audio_left_on(tmp_path):
    ctx = make_ctx(tmp_path)
    config = ctx.machine.root / "boot/firmware/config.txt"
    good = config.read_text()
    config.write_text(good.replace("dtoverlay=hifiberry-dacplusadcpro", "#"))
    result = hat.check_overlay(ctx)
    assert result.status == FAIL and "no dtoverlay=hifiberry-dacplusadcpro" in result.detail
    assert "/opt/stagebox/firmware/config.txt" in result.fix
    config.write_text(good + "dtoverlay=pisound\n")
    result = hat.check_overlay(ctx)
    assert result.status == FAIL and "loads pisound but audio.hat is" in result.detail
    config.write_text(good.replace("vc4-kms-v3d,noaudio", "vc4-kms-v3d"))
    assert hat.check_overlay(ctx).status == WARN
    # a line under a filter for another model is not in force
    config.write_text(good.replace("[all]\n\n# --- Audio HAT", "[pi5]\n\n# --- Audio HAT"))
    assert hat.check_overlay(ctx).status == FAIL


def test_overlay_of_the_pisound_profile(tmp_path):
    ctx = make_ctx(tmp_path, config={"audio.hat": "pisound", "lights.backend": "sim",
                                     "audio.backend": "sim"})  # fmt: skip
    config = ctx.machine.root / "boot/firmware/config.txt"
    fragment = (ROOT / "firmware" / "config-pisound.txt").read_text()
    config.write_text(fragment)
    assert hat.check_overlay(ctx).status == PASS


def test_sound_card(tmp_path):
    ctx = make_ctx(tmp_path)
    result = hat.check_card(ctx)
    assert result.status == PASS and "sndrpihifiberry" in result.detail
    cards = ctx.machine.root / "proc/asound/cards"
    cards.write_text(CARDS_HIFIBERRY + CARD_HDMI)
    result = hat.check_card(ctx)
    assert result.status == WARN and "vc4hdmi" in result.detail
    cards.write_text(CARD_HDMI)
    result = hat.check_card(ctx)
    assert result.status == FAIL
    assert (
        result.detail == "no ALSA card 'sndrpihifiberry' (HiFiBerry DAC+ ADC Pro); cards: vc4hdmi"
    )


# -- audio ---------------------------------------------------------------------------------------


def ltc_feed(level: float = 0.25, rate: str = "25", seconds: float = 3.0) -> np.ndarray:
    signal, _ = generate(Timecode.parse("01:00:00:00", Rate.parse(rate)), seconds, 48000)
    rng = np.random.default_rng(1)
    mic = 0.01 * rng.standard_normal(signal.shape[0])
    return np.stack([mic, level * signal / np.max(np.abs(signal))], axis=1).astype(np.float32)


def sim_audio(samples):
    return lambda cfg: SimBackend(samples=samples, sample_rate=48000, period=256)


def test_audio_streams_open_or_say_why(tmp_path):
    ctx = make_ctx(tmp_path, open_audio=sim_audio(ltc_feed()))
    result = audio.check_audio_open(ctx)
    assert result.status == PASS and "0 xruns" in result.detail

    def refuse(cfg):
        raise AudioError("cannot open ALSA capture device 'hw:CARD=sndrpihifiberry,DEV=0': busy")

    ctx.open_audio = refuse
    result = audio.check_audio_open(ctx)
    assert result.status == FAIL and "busy" in result.detail and "48000 Hz S32_LE" in result.detail


def test_ltc_present_locked_and_at_its_rate(tmp_path):
    ctx = make_ctx(tmp_path, open_audio=sim_audio(ltc_feed()))
    result = audio.check_ltc(ctx)
    assert result.status == PASS, result
    assert result.data["rate"] == "25" and result.data["locked"]
    assert result.data["first"].startswith("01:00:0")
    assert result.data["peak_dbfs"] == pytest.approx(-12.0, abs=0.2)


def test_ltc_absent_low_or_at_the_wrong_rate(tmp_path):
    silence = np.zeros((48000 * 3, 2), np.float32)
    ctx = make_ctx(tmp_path, open_audio=sim_audio(silence))
    result = audio.check_ltc(ctx)
    assert (
        result.status == FAIL and "no LTC on input 2 (audio.ltc_channel): silence" in result.detail
    )
    ctx.open_audio = sim_audio(ltc_feed(level=0.01))  # -40 dBFS
    result = audio.check_ltc(ctx)
    assert result.status == WARN and "the level is low" in result.detail
    ctx = make_ctx(tmp_path, open_audio=sim_audio(ltc_feed()), config={"timecode.rate": "24"})
    assert audio.check_ltc(ctx).status == FAIL


def test_latency_measured_through_the_patch_cable_and_written_as_the_trim(tmp_path):
    config = tmp_path / "stagebox.toml"
    config.write_text('[stage]\nmode = "safe"\n\n[audio]\nperiod_size = 256\n')
    cfg = load_config(config)
    ctx = make_ctx(
        tmp_path,
        loopback=1,
        open_audio=lambda c: LoopbackSim(channel=0, delay=137, period=256),
    )
    ctx.cfg = cfg
    result = audio.check_latency(ctx)
    assert result.status == WARN  # the config still says 0
    assert result.data["round_trips"] == [137, 137, 137] and result.data["trim"] == 137
    ctx.write_trim = True
    result = audio.check_latency(ctx)
    assert result.status == PASS and str(config) in result.detail
    assert load_config(config).audio.playback_latency_trim == 137
    assert load_config(config).audio.period_size == 256  # the rest kept
    # a period shorter than the click, and a delay of more than a period
    ctx.open_audio = lambda c: LoopbackSim(channel=0, delay=1000, period=32)
    assert audio.check_latency(ctx).data["round_trips"] == [1000, 1000, 1000]


def test_latency_without_the_cable(tmp_path):
    ctx = make_ctx(tmp_path, loopback=1, open_audio=sim_audio(np.zeros((48000 * 10, 2), "f4")))
    result = audio.check_latency(ctx)
    assert result.status == FAIL and "no click came back on input 1" in result.detail
    assert audio.check_latency(make_ctx(tmp_path)).status == SKIP


# -- lamps and buttons -----------------------------------------------------------------------------


def test_gpio_lines_free_or_held(tmp_path):
    ctx = make_ctx(tmp_path)
    assert gpio.check_gpio_lines(ctx).status == PASS
    lines = free_lines()
    lines[17] = LineInfo(17, "GPIO17", "pisound_button", True, False)
    ctx.line_info = lambda machine: lines
    result = gpio.check_gpio_lines(ctx)
    assert result.status == FAIL
    assert result.detail == "GPIO 17 (cue_light) is held by 'pisound_button'"
    lines[17] = LineInfo(17, "GPIO17", "lg", True, True)
    assert gpio.check_gpio_lines(ctx).status == WARN

    def denied(machine):
        raise PermissionError(errno.EACCES, "Permission denied")

    ctx.line_info = denied
    result = gpio.check_gpio_lines(ctx)
    assert result.status == FAIL and "'gpio' group" in result.fix


def test_line_info_struct_is_read_as_the_kernel_lays_it_out():
    # struct gpio_v2_line_info: name[32], consumer[32], offset, num_attrs, flags u64, ...
    buf = bytearray(256)
    buf[0:6] = b"GPIO17"
    buf[32:46] = b"pisound_button"
    buf[64:68] = (17).to_bytes(4, "little")
    buf[72:80] = (1 | 1 << 3).to_bytes(8, "little")  # USED | OUTPUT
    info = parse_line_info(bytes(buf))
    assert info == LineInfo(17, "GPIO17", "pisound_button", True, True)
    # the request numbers, as include/uapi/linux/gpio.h's _IOR/_IOWR macros give them
    assert lineinfo.GPIO_GET_CHIPINFO_IOCTL == 0x8044B401
    assert lineinfo.GPIO_V2_GET_LINEINFO_IOCTL == 0xC100B405


def test_lamps_cycled(tmp_path):
    backend = gpio_sim.Backend()
    ctx = make_ctx(tmp_path, open_gpio=lambda name: backend)
    result = gpio.check_lamps(ctx)
    assert result.status == PASS
    for lamp in ("cue_light", "record_light", "standby_light"):
        backend.assert_states(lamp, [False, True, False])
    answers = iter(["y", "n", "y"])
    ctx = make_ctx(tmp_path, open_gpio=lambda name: gpio_sim.Backend(), interactive=True,
                   ask=lambda prompt: next(answers))  # fmt: skip
    result = gpio.check_lamps(ctx)
    assert result.status == FAIL and "record_light (GPIO 27)" in result.detail


def test_a_lamp_whose_pin_does_not_follow(tmp_path):
    class Stuck(gpio_sim.Backend):
        def write(self, pin, level, sample=None):
            if pin.name != "record_light":
                super().write(pin, level, sample)

    ctx = make_ctx(tmp_path, open_gpio=lambda name: Stuck())
    result = gpio.check_lamps(ctx)
    assert result.status == FAIL and result.detail == "record_light (GPIO 27) did not follow"


def test_buttons_pressed_in_time(tmp_path):
    assert gpio.check_buttons(make_ctx(tmp_path)).status == SKIP
    backend = gpio_sim.Backend()

    def crew(prompt: str) -> None:  # the crew presses what the doctor asks for
        name = prompt.split("(")[1].split(",")[0]
        threading.Timer(0.01, backend.press, (name,)).start()

    ctx = make_ctx(tmp_path, open_gpio=lambda n: backend, interactive=True, say=crew)
    result = gpio.check_buttons(ctx)
    assert result.status == PASS, result
    assert set(result.data["pressed"]) == {
        "record", "safe", "rehearse", "next_cue", "previous_cue", "circle", "talkback"
    }  # fmt: skip


def test_a_button_never_pressed(tmp_path):
    backend = gpio_sim.Backend()

    def crew(prompt: str) -> None:
        name = prompt.split("(")[1].split(",")[0]
        if name not in ("circle", "talkback"):
            threading.Timer(0.01, backend.press, (name,)).start()

    ctx = make_ctx(tmp_path, open_gpio=lambda n: backend, interactive=True, say=crew,
                   button_seconds=0.3)  # fmt: skip
    result = gpio.check_buttons(ctx)
    assert result.status == FAIL
    assert result.detail == (
        "circle (GPIO 26) not pressed in 0.3 s; talkback (GPIO 24) not pressed in 0.3 s"
    )


# -- front panel, display, disk, sandbox ----------------------------------------------------------


def test_front_panel_answers(tmp_path):
    bus = FakeSSD1306Bus()
    ctx = make_ctx(tmp_path, config={"panel.enabled": True},
                   open_panel=lambda cfg: OLED(bus=bus))  # fmt: skip
    result = panel.check_panel(ctx)
    assert result.status == PASS and "SSD1306 answers on /dev/i2c-1 at 0x3C" in result.detail
    assert bus.on is False  # closed again: blanked
    silent = FakeSSD1306Bus(address=0x3D)  # nothing at 0x3C
    ctx.open_panel = lambda cfg: OLED(bus=silent)
    result = panel.check_panel(ctx)
    assert result.status == FAIL and "no device answers" in result.detail
    (ctx.machine.root / "dev/i2c-1").unlink()
    result = panel.check_panel(ctx)
    assert result.status == FAIL and "I2C is off" in result.detail
    assert panel.check_panel(make_ctx(tmp_path)).status == SKIP


def test_display_mode_and_flip_interval(tmp_path):
    ctx = make_ctx(tmp_path, measure_flips=lambda cfg, n: [1 / 60] * n)
    result = display.check_display(ctx)
    assert result.status == PASS
    assert result.detail == "card1-HDMI-A-1 1920x1080, page flip every 16.67 ms (60.00 Hz)"
    ctx.measure_flips = lambda cfg, n: [0.001] * n  # presents not paced by the flip
    assert display.check_display(ctx).status == FAIL
    write(ctx.machine.root, "/sys/class/drm/card1-HDMI-A-1/status", "disconnected\n")
    result = display.check_display(ctx)
    assert result.status == FAIL and result.detail.startswith("no monitor connected")


class FakeDisk:
    """A clock that fdatasync advances: a disk that takes `sync` seconds per sync."""

    def __init__(self, sync: float, per_write: float = 0.001) -> None:
        self.now, self.sync, self.per_write = 0.0, sync, per_write

    def clock(self) -> float:
        self.now += self.per_write
        return self.now

    def fdatasync(self, fd: int) -> None:
        os.fdatasync(fd)
        self.now += self.sync


class Statvfs:
    def __init__(self, free: int) -> None:
        self.f_bavail, self.f_frsize = free // 4096, 4096


def test_takes_disk_fast_and_roomy(tmp_path):
    fake = FakeDisk(sync=0.005)
    ctx = make_ctx(tmp_path, disk_test_mb=4, clock=fake.clock, fdatasync=fake.fdatasync,
                   statvfs=lambda p: Statvfs(200 * 2**30))  # fmt: skip
    result = disk.check_disk(ctx)
    assert result.status == PASS, result
    assert result.data["bitrate_bytes_per_s"] == 48000 * 3 * 1  # 24-bit mono takes
    assert not list((tmp_path / "takes").iterdir())  # the test file is gone


def test_takes_disk_that_stalls_or_is_full(tmp_path):
    fake = FakeDisk(sync=8.0)  # an SD card stalling 8 s on a sync
    ctx = make_ctx(tmp_path, disk_test_mb=4, clock=fake.clock, fdatasync=fake.fdatasync,
                   statvfs=lambda p: Statvfs(200 * 2**30))  # fmt: skip
    result = disk.check_disk(ctx)
    assert result.status == FAIL and result.data["longest_sync_s"] >= 8.0
    ctx = make_ctx(tmp_path, disk_test_mb=4, clock=FakeDisk(0.005).clock,
                   statvfs=lambda p: Statvfs(600 * 2**20))  # fmt: skip
    result = disk.check_disk(ctx)
    assert result.status == FAIL and result.data["record_hours"] < 1


def test_unit_sandbox(tmp_path):
    ctx = make_ctx(tmp_path, config={"panel.enabled": True})
    result = sandbox.check_sandbox(ctx)
    assert result.status == PASS, result
    write(ctx.machine.root, "/etc/systemd/system/stagebox.service.d/harden.conf",
          "[Service]\nProcSubset=pid\n")  # fmt: skip
    result = sandbox.check_sandbox(ctx)
    assert result.status == FAIL and "ProcSubset=pid hides /proc/device-tree" in result.detail
    (ctx.machine.root / "etc/systemd/system/stagebox.service").unlink()
    assert sandbox.check_sandbox(ctx).status == WARN


# -- the command ----------------------------------------------------------------------------------


def doctor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stagebox", "doctor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_doctor_json_over_a_fake_root(tmp_path):
    root = pi_root(tmp_path)
    result = doctor("--root", str(root), "--json", "--only", "model,kernel,overlay,card,sandbox")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [r["check"] for r in report["results"]] == [
        "model", "kernel", "hat overlay", "sound card", "unit sandbox"
    ]  # fmt: skip
    assert {r["status"] for r in report["results"]} == {"PASS"}
    (root / "proc/asound/cards").write_text(CARD_HDMI)
    result = doctor("--root", str(root), "--only", "card")
    assert result.returncode == 1
    assert "FAIL   sound card  no ALSA card 'sndrpihifiberry'" in result.stdout


def test_doctor_refuses_bad_options(tmp_path):
    result = doctor("--only", "model,frobnicate")
    assert result.returncode == 2
    assert "unknown check 'frobnicate'" in result.stderr and "Traceback" not in result.stderr
    result = doctor("--write-trim")
    assert result.returncode == 2 and "--write-trim needs --loopback N" in result.stderr


def test_bench_measures_this_machine_with_the_bench_code(capsys):
    from stagebox.config import Config
    from stagebox.doctor.bench import run_bench

    assert run_bench(Config(), json_out=True, seconds_scale=0.1) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["frame_size"] == "1920x1080"  # no monitor here: the default mode
    assert 0 < numbers["engine_pct_of_core"] < 50
    assert 0 < numbers["decoder_pct_of_core"] <= numbers["engine_pct_of_core"] * 2
    assert 0 < numbers["frame_ms_median"] <= numbers["frame_ms_p99"]
    assert numbers["full_frame_ms_median"] > 0
    assert 0 < numbers["sync_10s_cue_s"] < 5


# -- through the running service ------------------------------------------------------------------


@pytest.fixture
def service(tmp_path):
    """A stage answering on a real control socket (the service's contract, tests/control_fake)."""
    from control_fake import FakeStage

    from stagebox.control.server import ControlServer

    fake = FakeStage(tmp_path / "served-takes")
    path = tmp_path / "run" / "control.sock"
    server = ControlServer(str(path), fake)
    server.start()
    fake.socket = path
    yield fake
    server.stop()
    fake.log.close()


def test_through_the_running_service(tmp_path, service):
    from stagebox.doctor.context import running_service

    ctx = make_ctx(tmp_path, config={"control.socket": str(service.socket)})
    assert running_service(make_ctx(tmp_path).cfg) is None  # nothing at the default socket
    ctx.service = running_service(ctx.cfg)
    assert ctx.service is not None
    ctx.open_audio = ctx.open_gpio = None  # the service holds the card and the pins
    result = audio.check_ltc(ctx)
    assert result.status == PASS
    assert result.detail == (
        "the service is locked on input 2 (audio.ltc_channel) at 01:00:11:07, 25 fps, "
        "level -20.0 dBFS"
    )
    # its lamp test runs only in safe mode: the failure says so, and how to get there
    result = gpio.check_lamps(ctx)
    assert result.status == FAIL and "safe mode" in result.detail
    service.mode = "safe"
    assert gpio.check_lamps(ctx).status == PASS
    assert [c for c, _ in service.calls].count("lights.test") == 2
    # its own lines are held by lgpio: expected while it runs
    lines = free_lines()
    lines[17] = LineInfo(17, "GPIO17", "lg", True, True)
    ctx.line_info = lambda machine: lines
    assert gpio.check_gpio_lines(ctx).status == PASS
    ctx.loopback = 1
    assert audio.check_latency(ctx).status == SKIP
    service.extra = {"lock": "lost"}
    assert audio.check_ltc(ctx).status == FAIL
