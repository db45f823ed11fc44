"""MMC sysex bytes against the MMC specification's message formats, as published.

Every expected byte string is written out by hand from a published source, cited beside it
(the MIDI Machine Control section of the MIDI 1.0 specification is not freely published; these
are the MIDI implementation charts of machines that implement it, and open-source MMC code):

[VS840]  Roland VS-840EX owner's manual, MIDI implementation, "MIDI Machine Control Command
         Reference": STOP `F0 7F Dev 06 01 F7`, PLAY `.. 06 02 ..`, DEFERRED PLAY `.. 06 03 ..`,
         "Device ID (or 7FH)". https://esmanual.top/manual/8260/Roland-Vs-840Ex.html?page=181
[UDMR]   Ushio UDMR owner's manual p. 103: RECORD STROBE `F0 7F dev 06 06 F7`, RECORD EXIT
         `F0 7F dev 06 07 F7`, LOCATE [TARGET] `F0 7F dev 06 44 06 01 hr mn sc fr ff F7`.
         https://manualshive.com/en/manual/ushio/udmr/1064220?page=103
[MV8000] Roland MV-8000 MIDI implementation p. 445, LOCATE (MCP) Format 2 - LOCATE [TARGET]:
         `F0 7F dev 06 44 06 01 hr mn sc fr ff F7`, 06H byte count, 01H "TARGET" sub-command,
         "Standard Time Specification with subframes".
         https://manualsdump.com/en/manuals/roland-mv-8000/8845/445
[AR200]  Roland AR-200 MIDI implementation p. 59, the standard time's hours byte:
         "Hours Count xyyzzzzz: x Reserved (0), yy Time Code type 0 = 24 Frames/Sec, 1 = 25,
         2 = 30 (Drop Frame), 3 = 30 (Non Drop Frame), zzzzz Hours"; minutes `xxyyyyyy`,
         seconds `xxyyyyyy`, frames `xxxyyyyy`, reserved bits 0.
         https://manualsdump.com/amp/en/manuals/263767/59
[A300]   Cakewalk forum, "Trying to use my A 300 Pro keyboard control surface in Reaper",
         sysex strings Reaper obeys with MMC device id 0x10: stop `F0 7F 10 06 01 F7`, play
         `F0 7F 10 06 02 F7`, record `F0 7F 10 06 06 F7`, punch out `F0 7F 10 06 07 F7`.
         http://forum.cakewalk.com/Trying-to-use-my-A-300-Pro-keyboard-control-surface-in-Reaper-4-Daw-m2868734.aspx
[WFU]    Digital Sound & Music (Wake Forest University), ch. 6: "A MMC command for PLAY would
         look like this: F0 7F 7F 06 02 F7". http://wfu.tizrapublisher.com/digital-sound-and-music/352
[ARDOUR] Ardour, libs/midi++2/mmc.cc, MachineControlCommand::fill_buffer: f0 7f <send id> 06
         <command>, and for cmdLocate 06 (byte count) 01 ("TARGET") hours minutes seconds
         frames subframes, then f7 (GPL-2.0+; read, not copied).
"""

from __future__ import annotations

import pytest

from stagebox.daw import mmc
from stagebox.timecode import (
    RATE_24,
    RATE_25,
    RATE_30,
    RATE_2997DF,
    RATE_2997NDF,
    RATE_23976,
    Timecode,
)


def hexes(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    "build, expected, source",
    [
        (mmc.stop, "F0 7F 7F 06 01 F7", "VS840"),
        (mmc.play, "F0 7F 7F 06 02 F7", "VS840, WFU"),
        (mmc.deferred_play, "F0 7F 7F 06 03 F7", "VS840"),
        (mmc.record_strobe, "F0 7F 7F 06 06 F7", "UDMR"),
        (mmc.record_exit, "F0 7F 7F 06 07 F7", "UDMR"),
    ],
)
def test_transport_commands_to_all_call(build, expected, source):
    assert build() == hexes(expected), source


@pytest.mark.parametrize(
    "build, expected",
    [
        (mmc.stop, "F0 7F 10 06 01 F7"),
        (mmc.play, "F0 7F 10 06 02 F7"),
        (mmc.record_strobe, "F0 7F 10 06 06 F7"),
        (mmc.record_exit, "F0 7F 10 06 07 F7"),
    ],
)
def test_transport_commands_to_one_device_id(build, expected):
    # [A300]: what Reaper obeys from a controller sending as device 0x10
    assert build(0x10) == hexes(expected)


# LOCATE [TARGET] ([MV8000], [UDMR], [ARDOUR]) with the hours byte's type bits ([AR200]):
#   hr = 0 tt hhhhh: 24 fps tt=00, 25 fps tt=01, 30 DF tt=10, 30 ND tt=11.
@pytest.mark.parametrize(
    "label, rate, expected",
    [
        # 01:00:02:00 at 25: hr = 0 01 00001 = 0x21, 0 min, 2 s, frame 0, subframes 0
        ("01:00:02:00", RATE_25, "F0 7F 7F 06 44 06 01 21 00 02 00 00 F7"),
        # 10:20:30:12 at 24: hr = 0 00 01010 = 0x0A, 20 = 0x14, 30 = 0x1E, 12 = 0x0C
        ("10:20:30:12", RATE_24, "F0 7F 7F 06 44 06 01 0A 14 1E 0C 00 F7"),
        # 23.976 has no MMC type of its own: its labels travel as type 24
        ("01:00:00:00", RATE_23976, "F0 7F 7F 06 44 06 01 01 00 00 00 00 F7"),
        # 01:01:00;02 at 29.97 DF: hr = 0 10 00001 = 0x41 (the first label of minute 1)
        ("01:01:00;02", RATE_2997DF, "F0 7F 7F 06 44 06 01 41 01 00 02 00 F7"),
        # 29.97 non-drop travels as type 30 ND: hr = 0 11 00001 = 0x61
        ("01:00:00:00", RATE_2997NDF, "F0 7F 7F 06 44 06 01 61 00 00 00 00 F7"),
        # the last frame of the day at 30: hr = 0 11 10111 = 0x77, 59 = 0x3B, 29 = 0x1D
        ("23:59:59:29", RATE_30, "F0 7F 7F 06 44 06 01 77 3B 3B 1D 00 F7"),
    ],
)
def test_locate_target_carries_the_rate_in_the_hours_byte(label, rate, expected):
    assert mmc.locate(Timecode.parse(label, rate)) == hexes(expected)


def test_locate_to_a_device_id_and_with_subframes():
    tc = Timecode.parse("01:00:02:00", RATE_25)
    # device id in byte 2 ([MV8000] "dev"), subframes last before EOX ([AR200]: 0..99)
    assert mmc.locate(tc, 0x05, subframes=50) == hexes("F0 7F 05 06 44 06 01 21 00 02 00 32 F7")


@pytest.mark.parametrize("device_id", [-1, 128, 300])
def test_device_id_out_of_range_is_refused(device_id):
    with pytest.raises(mmc.MMCError, match=r"out of range 0\.\.127"):
        mmc.stop(device_id)


def test_subframes_out_of_range_are_refused():
    with pytest.raises(mmc.MMCError, match="subframes 100"):
        mmc.locate(Timecode.parse("01:00:00:00", RATE_25), subframes=100)


def test_every_byte_between_the_sysex_markers_is_seven_bit():
    # A data byte with its top bit set would end the sysex early on the wire.
    for rate in (RATE_24, RATE_25, RATE_2997DF, RATE_30):
        tc = Timecode.parse("23:59:59:23", rate) if rate.nominal == 24 else None
        tc = tc or Timecode.from_frames(rate.frames_per_day - 1, rate)
        message = mmc.locate(tc, 0x7F, 99)
        assert message[0] == 0xF0 and message[-1] == 0xF7
        assert all(b < 0x80 for b in message[1:-1])


def test_describe_names_the_command_and_the_time():
    assert mmc.describe(hexes("F0 7F 7F 06 44 06 01 21 00 02 00 00 F7")) == (
        "LOCATE 01:00:02:00 (25 fps)"
    )
    assert mmc.describe(hexes("F0 7F 7F 06 44 06 01 41 01 00 02 00 F7")) == (
        "LOCATE 01:01:00;02 (30 fps drop-frame)"
    )
    assert mmc.describe(hexes("F0 7F 7F 06 03 F7")) == "DEFERRED PLAY"
    assert mmc.describe(b"\x90\x40\x7f").startswith("not an MMC command")
