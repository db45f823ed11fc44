"""MIDI Machine Control: the sysex messages that drive a DAW's transport.

Every MMC command is a Universal Real Time System Exclusive message

    F0 7F <device id> 06 <command> [<byte count> <data> ...] F7

where the device id is the DAW's MMC ID (0x00..0x7E) or 0x7F, the *all-call* that every
receiver obeys (Pro Tools' and Nuendo's default), and 06 marks an MMC command (07 would be a
response). The transport commands are one byte and carry no byte count: STOP 01, PLAY 02,
DEFERRED PLAY 03 (play once a locate in progress has finished), RECORD STROBE 06 (punch in),
RECORD EXIT 07 (punch out).

LOCATE [TARGET] is `44 06 01 hr mn sc fr ff`: byte count 6, sub-command 01 (target), then a
*standard time code* with subframes. Its hours byte carries the time-code type in bits 5-6:

    hr = 0 tt hhhhh     tt: 00 = 24 fps, 01 = 25 fps, 10 = 30 fps drop-frame, 11 = 30 fps
    mn = 0 c mmmmmm     c: colour-frame flag (0)
    sc = 0 k ssssss     k: reserved (0)
    fr = 0 g i fffff    g: sign, i: final-byte flag (0: subframes follow)
    ff = 0 bbbbbbb      subframes, 0..99 hundredths of a frame

MMC has no code for the pulled-down rates: 23.976 travels as type 24 and 29.97 non-drop as
type 30, the labels being the same; 29.97 drop-frame (and 30 drop-frame) as type 30 DF.
"""

from __future__ import annotations

from stagebox.timecode import Rate, Timecode

SYSEX = 0xF0
EOX = 0xF7
UNIVERSAL_REAL_TIME = 0x7F
MMC_COMMAND = 0x06
ALL_CALL = 0x7F  # device id every MMC receiver answers to

# Command codes (MMC command sub-ids).
STOP = 0x01
PLAY = 0x02
DEFERRED_PLAY = 0x03
RECORD_STROBE = 0x06
RECORD_EXIT = 0x07
LOCATE = 0x44
LOCATE_TARGET = 0x01  # LOCATE's sub-command: go to the time that follows

NAMES = {
    STOP: "STOP",
    PLAY: "PLAY",
    DEFERRED_PLAY: "DEFERRED PLAY",
    RECORD_STROBE: "RECORD STROBE",
    RECORD_EXIT: "RECORD EXIT",
    LOCATE: "LOCATE",
}

# Time-code type (bits 5-6 of the hours byte) by (labels per second, drop-frame).
_TIME_TYPE = {(24, False): 0b00, (25, False): 0b01, (30, True): 0b10, (30, False): 0b11}


class MMCError(ValueError):
    """A message that cannot be built: a device id or time outside what MMC can carry."""


def _check_device(device_id: int) -> int:
    if not isinstance(device_id, int) or isinstance(device_id, bool) or not 0 <= device_id <= 0x7F:
        raise MMCError(f"MMC device id {device_id!r} out of range 0..127 (127: all-call)")
    return device_id


def command(code: int, device_id: int = ALL_CALL) -> bytes:
    """A one-byte transport command (STOP, PLAY, DEFERRED PLAY, RECORD STROBE/EXIT)."""
    if code not in NAMES or code == LOCATE:
        raise MMCError(f"0x{code:02X} is not a one-byte MMC transport command")
    return bytes((SYSEX, UNIVERSAL_REAL_TIME, _check_device(device_id), MMC_COMMAND, code, EOX))


def stop(device_id: int = ALL_CALL) -> bytes:
    return command(STOP, device_id)


def play(device_id: int = ALL_CALL) -> bytes:
    return command(PLAY, device_id)


def deferred_play(device_id: int = ALL_CALL) -> bytes:
    """PLAY, but only once the locate in progress has arrived (MMC's 'play from here')."""
    return command(DEFERRED_PLAY, device_id)


def record_strobe(device_id: int = ALL_CALL) -> bytes:
    return command(RECORD_STROBE, device_id)


def record_exit(device_id: int = ALL_CALL) -> bytes:
    return command(RECORD_EXIT, device_id)


def time_type(rate: Rate) -> int:
    """The 2-bit MMC time-code type of `rate` (pulled-down rates share their label rate's)."""
    tt = _TIME_TYPE.get((rate.nominal, rate.drop_frame))
    if tt is None:  # pragma: no cover - every stagebox Rate has one
        raise MMCError(f"MMC has no time-code type for {rate}")
    return tt


def locate(tc: Timecode, device_id: int = ALL_CALL, subframes: int = 0) -> bytes:
    """LOCATE [TARGET] to `tc`, its rate in the hours byte's type bits."""
    if not 0 <= subframes <= 99:
        raise MMCError(f"subframes {subframes} out of range 0..99")
    hours = (time_type(tc.rate) << 5) | tc.hours
    return bytes(
        (
            SYSEX,
            UNIVERSAL_REAL_TIME,
            _check_device(device_id),
            MMC_COMMAND,
            LOCATE,
            0x06,  # bytes that follow: sub-command and the 5-byte time
            LOCATE_TARGET,
            hours,
            tc.minutes,
            tc.seconds,
            tc.frames,
            subframes,
            EOX,
        )
    )


def describe(message: bytes) -> str:
    """A message as the journal and `stagebox daw` show it: "LOCATE 01:00:02:00 (25 fps)"."""
    if (
        len(message) < 6
        or message[0] != SYSEX
        or message[1] != UNIVERSAL_REAL_TIME
        or message[3] != MMC_COMMAND
        or message[-1] != EOX
    ):
        return "not an MMC command: " + message.hex(" ")
    name = NAMES.get(message[4], f"command 0x{message[4]:02X}")
    if message[4] == LOCATE and len(message) == 13:
        hr, mn, sc, fr = message[7], message[8], message[9], message[10]
        tt = (hr >> 5) & 0b11
        rate = ("24 fps", "25 fps", "30 fps drop-frame", "30 fps")[tt]
        sep = ";" if tt == 0b10 else ":"
        name += f" {hr & 0x1F:02d}:{mn:02d}:{sc:02d}{sep}{fr & 0x1F:02d} ({rate})"
    return name
