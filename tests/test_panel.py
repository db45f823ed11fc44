"""The front panel: what reaches the OLED over I2C, decoded back into the picture it shows."""

from __future__ import annotations

import errno
import logging
import threading

import numpy as np
import pytest
from ssd1306_emulator import FakeSSD1306Bus

from stagebox.cues.cue import Cue
from stagebox.panel import font
from stagebox.panel.framebuffer import Framebuffer
from stagebox.panel.panel import FrontPanel, open_panel_device
from stagebox.panel.sim import SimPanel
from stagebox.panel.ssd1306 import (
    INIT_SEQUENCE,
    SSD1306,
    DeviceNotFoundError,
    DevicePermissionError,
    PanelError,
)
from stagebox.snapshot import ClockFit, StageSnapshot
from stagebox.timecode import RATE_25, RATE_2997DF, Timecode
from stagebox.timemap import TimeFit

SR = 48000  # Hz
T0 = 500.0  # seconds, monotonic: when the anchor sample was at the converter


def snapshot(**changes) -> StageSnapshot:
    tc = Timecode.parse("01:02:03:04", RATE_25)
    base = dict(
        sample=SR * 10,
        sample_rate=SR,
        mode="record",
        lock="locked",
        clock=ClockFit(SR * 10, tc.frame_count, SR / 25, RATE_25),
        time=TimeFit(SR * 10, T0, float(SR)),
        cue=Cue("101", tc + 50, tc + 150, character="Mary"),
        take=3,
        recording=True,
        disk_seconds_left=245 * 60 + 59,
    )
    base.update(changes)
    return StageSnapshot(**base)


def text_bitmap(text: str, scale: int = 1) -> np.ndarray:
    """`text` drawn alone with the panel's font: the expected pixels, cropped to its width."""
    fb = Framebuffer()
    fb.draw_text(0, 0, text, scale=scale)
    return fb.pixels[: 8 * scale, : font.text_width(text, scale)]


def shows_text(image: np.ndarray, text: str, y: int, x: int | None = None, scale=1) -> bool:
    """Whether `image` shows `text` at row `y` (at column `x`, or anywhere along the row)."""
    want = text_bitmap(text, scale)
    h, w = want.shape
    band = image[y : y + h]
    xs = [x] if x is not None else range(0, image.shape[1] - w + 1)
    return any(np.array_equal(band[:, c : c + w], want) for c in xs)


def show(snap: StageSnapshot, now: float = T0) -> FakeSSD1306Bus:
    bus = FakeSSD1306Bus()
    panel = FrontPanel(SSD1306(bus=bus))
    panel.publish(snap)
    assert panel.step(now)
    return bus


def test_init_sequence_matches_the_datasheet():
    bus = FakeSSD1306Bus()
    device = SSD1306(bus=bus)
    device.open()
    commands = {c[0]: c[1:] for c in bus.commands}
    assert all(addr == 0x3C and control == 0x00 for addr, control, _ in bus.transactions)
    assert bus.commands[0] == (0xAE,)  # display off first...
    assert bus.commands[-1] == (0xAF,)  # ...and on last, once configured
    assert commands[0xA8] == (63,)  # multiplex ratio = rows - 1 for 64 rows
    assert commands[0x8D] == (0x14,)  # charge pump enable (0x10 = disabled)
    assert commands[0xDA] == (0x12,)  # alternative COM pin configuration: 128x64 glass
    assert commands[0x20] == (0x00,)  # horizontal addressing mode
    assert commands[0xD3] == (0x00,)  # no vertical offset
    assert commands[0xD5] == (0x80,)  # clock divide ratio / oscillator: reset value
    assert commands[0xDB][0] in (0x00, 0x20, 0x30)  # the datasheet's only VCOMH levels
    assert commands[0xD9][0] & 0x0F and commands[0xD9][0] >> 4  # both phases non-zero
    assert 0x40 in commands and 0xA1 in commands and 0xC8 in commands and 0xA4 in commands
    assert bus.on
    assert sum(len(c) for c in INIT_SEQUENCE) == sum(len(p) for _, _, p in bus.transactions)


def test_panel_shows_the_stage_state():
    bus = show(snapshot())
    image = bus.image()
    assert shows_text(image, "01:02:03:04", 0, scale=2)
    assert shows_text(image, "LOCKED", 16, x=0)
    assert shows_text(image, "25", 16, x=128 - font.text_width("25"))
    assert shows_text(image, "RECORD", 24, x=0)
    assert shows_text(image, "CUE 101", 32, x=0)
    assert shows_text(image, "TK 3", 32, x=128 - font.text_width("TK 3"))
    assert shows_text(image, "MARY", 40, x=0)
    assert shows_text(image, "DISK 245 MIN", 48, x=0)


def _rec_box(image: np.ndarray) -> bool:
    """REC in dark letters on a lit box at the right of page 3."""
    box = image[24:32, 106:128]
    inverted = 1 - box
    return bool(box[7].all()) and shows_text(np.vstack([inverted, np.zeros((1, 22))]), "REC", 0)


def test_rec_shows_only_while_recording():
    assert _rec_box(show(snapshot(recording=True)).image())
    idle = show(snapshot(recording=False, mode="rehearse")).image()
    assert not _rec_box(idle)
    assert not idle[24:32, 106:128].any()
    assert shows_text(idle, "REHEARSE", 24, x=0)


def test_no_timecode_and_lost_lock():
    image = show(snapshot(clock=None, lock="lost", cue=None, take=None)).image()
    assert shows_text(image, "--:--:--:--", 0, scale=2)
    assert shows_text(image, "NO LTC", 16, x=0)
    assert shows_text(image, "NO CUE", 32, x=0)


def test_timecode_is_extrapolated_to_the_moment_of_drawing():
    snap = snapshot()
    base = Timecode.parse("01:02:03:04", RATE_25)
    # 0.5 s after the snapshot's sample: 12.5 frames later at 25 fps.
    assert shows_text(show(snap, T0 + 0.5).image(), str(base + 12), 0, scale=2)
    # A stalled engine: never more than one second past the snapshot.
    assert shows_text(show(snap, T0 + 30).image(), str(base + 25), 0, scale=2)
    # Lost: the last timecode stays, frozen.
    lost = snapshot(lock="lost")
    assert shows_text(show(lost, T0 + 0.5).image(), str(base), 0, scale=2)


def test_drop_frame_timecode_fits_the_panel():
    tc = Timecode.parse("23:59:59;29", RATE_2997DF)
    clock = ClockFit(SR * 10, tc.frame_count, SR * 1001 / 30000, RATE_2997DF)
    image = show(snapshot(clock=clock)).image()
    assert shows_text(image, "23:59:59;29", 0, scale=2)
    assert shows_text(image, "29.97DF", 16, x=128 - font.text_width("29.97DF"))


def test_low_disk_and_message():
    image = show(snapshot(disk_seconds_left=9 * 60 + 30, message="xrun at 01:02:03:04")).image()
    assert shows_text(image, "DISK 9 MIN LOW", 48, x=0)
    assert shows_text(image, "XRUN AT 01:02:03:04", 56, x=0)


def test_only_changed_pages_are_written():
    bus = FakeSSD1306Bus()
    panel = FrontPanel(SSD1306(bus=bus))
    panel.publish(snapshot())
    panel.step(T0)
    assert bus.data_pages_since(0) == set(range(8))  # first frame: everything
    mark = len(bus.transactions)
    panel.publish(snapshot(take=4))
    panel.step(T0)
    assert bus.data_pages_since(mark) == {4}
    data = sum(len(p) for _, c, p in bus.transactions[mark:] if c == 0x40)
    assert data < 128  # and only the columns that changed within it
    assert shows_text(bus.image(), "TK 4", 32, x=128 - font.text_width("TK 4"))
    mark = len(bus.transactions)
    panel.step(T0 + 0.2)  # the clock moved on: five frames later
    assert bus.data_pages_since(mark) == {0, 1}
    mark = len(bus.transactions)
    panel.step(T0 + 0.2)
    assert bus.transactions[mark:] == []  # nothing changed: nothing sent


def test_bus_errors_name_the_bus_and_address(monkeypatch):
    bus = FakeSSD1306Bus()
    bus.fail = OSError(errno.EREMOTEIO, "Remote I/O error")
    with pytest.raises(DeviceNotFoundError, match=r"I2C bus 1 \(/dev/i2c-1\) address 0x3C"):
        SSD1306(bus=bus).open()
    # The real smbus2 path (lazy import, no injected bus): this machine has no /dev/i2c-7.
    with pytest.raises(DeviceNotFoundError, match=r"I2C bus 7 .*no such I2C bus"):
        SSD1306(bus_number=7, address=0x3D).open()
    import smbus2

    def denied(n):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(smbus2, "SMBus", denied)
    with pytest.raises(DevicePermissionError, match=r"address 0x3D: permission denied.*i2c"):
        SSD1306(bus_number=1, address=0x3D).open()
    with pytest.raises(PanelError, match="unknown front panel device 'lcd'"):
        open_panel_device("lcd")


def test_missing_panel_warns_once_and_retries(caplog):
    bus = FakeSSD1306Bus()
    bus.fail = OSError(errno.ENXIO, "No such device or address")
    panel = FrontPanel(SSD1306(bus=bus), retry_seconds=10)
    panel.publish(snapshot())
    with caplog.at_level(logging.DEBUG, logger="stagebox.panel"):
        shown = [panel.step(T0 + i * 0.125) for i in range(200)]  # 25 s at 8 Hz
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "I2C bus 1" in warnings[0].message and "0x3C" in warnings[0].message
        assert not any(shown)
        attempts = len([r for r in caplog.records if r.levelno == logging.DEBUG]) + 1
        assert attempts == 3  # at 0, 10 and 20 s
        bus.fail = None
        assert panel.step(T0 + 30)
        assert "is back" in caplog.text
    assert shows_text(bus.image(), "CUE 101", 32, x=0)
    assert bus.commands[0] == (0xAE,)  # re-initialised after coming back


def test_publish_never_waits_for_a_slow_panel():
    release = threading.Event()
    entered = threading.Event()

    class StuckPanel(SimPanel):
        def show(self, fb):
            entered.set()
            release.wait(10)
            return super().show(fb)

    device = StuckPanel()
    panel = FrontPanel(device, refresh_hz=10).start()
    try:
        panel.publish(snapshot(take=1))
        assert entered.wait(5)
        for take in range(2, 1000):  # the engine keeps publishing while the bus is stuck
            panel.publish(snapshot(take=take))
        release.set()
        deadline = threading.Event()
        for _ in range(100):
            if device.image is not None and shows_text(
                device.image.pixels, "TK 999", 32, x=128 - font.text_width("TK 999")
            ):
                break
            deadline.wait(0.05)
    finally:
        release.set()
        panel.stop()
    assert shows_text(device.image.pixels, "TK 999", 32, x=128 - font.text_width("TK 999"))
    assert device.shows < 50  # the 997 snapshots in between were dropped, not queued


def test_sim_panel_text():
    device = open_panel_device("sim")
    panel = FrontPanel(device)
    panel.publish(snapshot())
    panel.step(T0)
    rows = device.to_text().splitlines()
    assert len(rows) == 64 and all(len(r) == 128 for r in rows)


# -- SH1106 (1.3-inch modules): the same class, its own command set ---------------------------


def test_sh1106_shows_the_frame_at_its_column_offset():
    from sh1106_emulator import FakeSH1106Bus

    from stagebox.panel.panel import open_panel_device
    from stagebox.panel.ssd1306 import OLED

    bus = FakeSH1106Bus()
    device = OLED(bus=bus, controller="sh1106")
    fb = Framebuffer()
    fb.draw_text(0, 0, "01:02:03:04", scale=2)
    fb.fill_rect(0, 63, 128, 1)  # the bottom row, first to last column
    device.open()
    assert bus.on and bus.commands[0] == (0xAE,) and bus.commands[-1] == (0xAF,)
    assert (0xAD, 0x8B) in bus.commands  # its DC-DC converter, not the SSD1306 charge pump
    assert device.show(fb) == 8 * 128
    assert np.array_equal(bus.image(), fb.pixels)
    # RAM columns 0, 1, 130 and 131 are off the glass and never written
    assert not bus.ram[:, [0, 1, 130, 131]].any()
    # a change is sent as that page alone, from its first changed column
    fb.fill_rect(40, 20, 3, 1)
    start = len(bus.transactions)
    assert device.show(fb) == 3
    assert bus.transactions[start][2] == bytes([0xB0 | 2, (40 + 2) & 0x0F, 0x10 | (42 >> 4)])
    assert np.array_equal(bus.image(), fb.pixels)
    assert open_panel_device("sh1106").controller.name == "sh1106"


def test_the_ssd1306_command_set_is_garbage_to_an_sh1106():
    from sh1106_emulator import FakeSH1106Bus

    with pytest.raises(AssertionError, match="is not an SH1106 command"):
        SSD1306(bus=FakeSH1106Bus()).open()


def test_a_scored_take_shows_in_place_of_the_character():
    image = show(snapshot(sync="T3 IN SYNC 96% +12ms")).image()
    assert shows_text(image, "T3 IN SYNC 96% +12MS", 40, x=0)
    assert not shows_text(image, "MARY", 40, x=0)
    assert shows_text(image, "DISK 245 MIN", 48, x=0)
    # A long line goes on over the disk line, unless the disk is low.
    line = "T3 CHECK WORDS @01:00:12:05 'never'"
    image = show(snapshot(sync=line)).image()
    assert shows_text(image, "T3 CHECK WORDS", 40, x=0)
    assert shows_text(image, "@01:00:12:05 'NEVER'", 48, x=0)
    image = show(snapshot(sync=line, disk_seconds_left=5 * 60)).image()
    assert shows_text(image, "T3 CHECK WORDS", 40, x=0)
    assert shows_text(image, "DISK 5 MIN LOW", 48, x=0)
