"""The config's sections for sound: the audio interface, the timecode, the beeps, the actor's
headphone mix and the sync score's guide. One frozen dataclass per `[section]`, one typed key
per field (see `schema`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagebox.config.types import (
    Boolean,
    ChannelList,
    Choice,
    ChoiceList,
    Float,
    Integer,
    PathValue,
    String,
    TimecodeRateValue,
    setting,
)
from stagebox.phones.matrix import MODES as PHONE_MODES
from stagebox.timecode import Rate


@dataclass(frozen=True)
class AudioConfig:
    """The audio interface: one capture stream carries the LTC and the microphones."""

    backend: str = setting(
        Choice("alsa", "sim"),
        "alsa",
        "alsa: the audio HAT or interface; sim: a WAV file or generated LTC, no sound card",
    )
    hat: str = setting(
        Choice(
            "hifiberry-dacplusadcpro",
            "hifiberry-dacplusadc",
            "codec-zero",
            "pisound",
            "usb",
            "none",
        ),
        "hifiberry-dacplusadcpro",
        "the audio HAT: its overlay, ALSA card, channels, the GPIOs it claims and its default "
        "pin map (docs/audio.md)",
    )
    capture_device: str = setting(
        String(allow_empty=False),
        "hw:CARD=sndrpihifiberry,DEV=0",
        "ALSA capture device (`arecord -L` lists them); use hw: names, not plughw:",
    )
    playback_device: str = setting(
        String(allow_empty=False),
        "hw:CARD=sndrpihifiberry,DEV=0",
        "ALSA playback device for the beeps into the actor's headphones",
    )
    sample_rate: int = setting(
        Integer(choices=(44100, 48000, 96000)), 48000, "sample rate in Hz, capture and playback"
    )
    sample_format: str = setting(
        Choice("S16_LE", "S24_LE", "S32_LE", "S24_3LE"),
        "S32_LE",
        "ALSA sample format the interface runs at (S24_3LE: packed 3-byte USB interfaces)",
    )
    period_size: int = setting(
        Integer(minimum=32, maximum=8192),
        256,
        "frames per ALSA period: the engine's unit of work (256 = 5.3 ms at 48 kHz)",
    )
    periods: int = setting(
        Integer(minimum=2, maximum=32), 4, "periods in the ALSA buffer (buffer = periods x period)"
    )
    capture_channels: int = setting(
        Integer(minimum=1, maximum=64), 2, "channels opened on the capture device"
    )
    ltc_channel: int = setting(
        Integer(minimum=1, maximum=64),
        2,
        "capture channel carrying LTC from the DAW (1-based: 2 = right input of a stereo HAT)",
    )
    mic_channels: tuple[int, ...] = setting(
        ChannelList(), [1], "capture channels recorded into each take (1-based)"
    )
    guide_channel: int = setting(
        Integer(minimum=0, maximum=64),
        0,
        "capture channel carrying the DAW's guide track, the production line (1-based; "
        "0: none): recorded with each take over exactly its samples and scored against it "
        "after the pass (sync.guide_folder: the fallback); the phones' guide source",
    )
    playback_channels: int = setting(
        Integer(minimum=1, maximum=64), 2, "channels opened on the playback device"
    )
    headphone_channels: tuple[int, ...] = setting(
        ChannelList(), [1, 2], "playback channels of the actor's headphone mix ([phones]; 1-based)"
    )
    playback_latency_trim: int = setting(
        Integer(minimum=-48000, maximum=48000),
        0,
        "samples added to the measured output delay when placing beeps (positive: play earlier)",
    )
    sim_feed: Path | None = setting(
        PathValue(optional=True, must_exist="file"),
        "",
        "sim backend: the stage feed WAV file played as the capture stream (required with it)",
    )
    sim_realtime: bool = setting(
        Boolean(),
        True,
        "sim backend: pace the feed at the sample rate (false: as fast as the CPU allows)",
    )


@dataclass(frozen=True)
class TimecodeConfig:
    """How LTC is read: the rate, how long a dropout is bridged, how soon lock is declared."""

    rate: Rate | None = setting(
        TimecodeRateValue(),
        "auto",
        "auto: measure the rate from the LTC itself; or force one, e.g. 23.976, 25, 29.97df",
    )
    freewheel_frames: int = setting(
        Integer(minimum=0, maximum=250),
        5,
        "frames of missing or garbled LTC bridged by prediction before the clock is lost",
    )
    take_dropout_seconds: float = setting(
        Float(minimum=0.0, maximum=10.0),
        2.0,
        "seconds of LTC dropout bridged while a take records: the take goes on, "
        "sample-continuous, and its note records the dropout; a longer one closes the take "
        "with all the audio it had",
    )
    lock_frames: int = setting(
        Integer(minimum=1, maximum=50),
        1,
        "consecutive frames in sequence needed to lock (1: the first frame that passes the "
        "decoder's sync, BCD and timing checks, so timecode is known within two frames)",
    )


@dataclass(frozen=True)
class BeepsConfig:
    """ADR beeps into the headphones: the line starts on the silent beep after the last."""

    enabled: bool = setting(Boolean(), True, "play beeps before each cue's TC-in")
    count: int = setting(Integer(minimum=1, maximum=10), 3, "beeps before TC-in")
    spacing_seconds: float = setting(
        Float(minimum=0.1, maximum=5.0), 1.0, "seconds from one beep to the next (and to TC-in)"
    )
    frequency_hz: float = setting(Float(minimum=50.0, maximum=15000.0), 1000.0, "beep pitch in Hz")
    length_frames: int = setting(
        Integer(minimum=1, maximum=25), 1, "length of each beep in timecode frames"
    )
    level_dbfs: float = setting(
        Float(minimum=-60.0, maximum=0.0), -20.0, "beep level in dBFS (peak of the sine)"
    )
    beep_at_tc_in: bool = setting(
        Boolean(), False, "also beep on TC-in itself (most actors prefer it silent)"
    )


def _level(default: float, what: str) -> Any:
    return setting(
        Float(minimum=-60.0, maximum=12.0), default, f"level in dB of {what} (0: unchanged)"
    )


def _modes(default: list[str], what: str) -> Any:
    return setting(ChoiceList(*PHONE_MODES), default, f"modes in which the actor hears {what}")


@dataclass(frozen=True)
class PhonesConfig:
    """The actor's headphone mix: each source's level and the modes it is heard in (docs/phones.md).

    The mix goes to audio.headphone_channels. The guide comes from audio.guide_channel; live
    changes (`stagebox phones guide -6`) last until the service restarts or reloads.
    """

    beeps_level_db: float = _level(0.0, "the beeps (on top of beeps.level_dbfs)")
    beeps_modes: tuple[str, ...] = _modes(["rehearse", "record", "review"], "the beeps")
    guide_level_db: float = _level(-6.0, "the guide track (from audio.guide_channel)")
    guide_modes: tuple[str, ...] = _modes(["rehearse"], "the guide")
    sidetone_level_db: float = _level(-6.0, "the actor's own microphone (sidetone)")
    sidetone_modes: tuple[str, ...] = _modes(["rehearse", "record"], "themselves")
    sidetone_channels: tuple[int, ...] = setting(
        ChannelList(allow_empty=True),
        [],
        "capture channels summed into the sidetone (1-based; empty: audio.mic_channels)",
    )
    talkback_level_db: float = _level(0.0, "the director's talkback")
    talkback_channel: int = setting(
        Integer(minimum=0, maximum=64),
        0,
        "capture channel of the director's talkback mic (1-based; 0: none), heard in every "
        "mode while the talkback button is held or `stagebox phones talkback on`",
    )
    talkback_dim_db: float = setting(
        Float(minimum=-60.0, maximum=0.0),
        -20.0,
        "dB taken off every other source while talkback is live",
    )
    review_level_db: float = _level(0.0, "a take played back (review)")
    review_modes: tuple[str, ...] = _modes(["review"], "a take played back")
    ramp_ms: float = setting(
        Float(minimum=0.5, maximum=100.0),
        5.0,
        "ms over which a level, mode or talkback change fades in, so it never clicks",
    )


@dataclass(frozen=True)
class SyncConfig:
    """The sync score: each take against its guide line (the production dialogue)."""

    guide_folder: Path | None = setting(
        PathValue(optional=True),
        "",
        "folder of guide BWFs (production dialogue with bext TimeReference), cut to each "
        "take's span by timecode (empty: none)",
    )
    guide_file: bool = setting(
        Boolean(),
        True,
        "with audio.guide_channel: keep the guide as a second file beside each take "
        "(<take>.guide.wav with the take's TimeReference, which stagebox sync reads); false: "
        "score it from memory and keep nothing",
    )
    max_offset_ms: float = setting(
        Float(minimum=100.0, maximum=5000.0),
        1000.0,
        "how far the alignment may wander from the guide, in ms (beyond it: out of sync)",
    )
