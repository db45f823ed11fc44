"""Audio HAT profiles: what each supported audio interface needs from the Pi, and claims.

A HAT is more than a sound card. It loads a device-tree overlay (a `dtoverlay=` line in
config.txt), appears as an ALSA card with a fixed name, offers a channel layout, and its
overlay or its board takes GPIOs of its own. A stage lamp or button on one of those pins
fights the HAT: on a Pisound the cue light would drive the HAT's own button line; on a Codec
Zero a lit record light shorts to ground through the on-board button when it is pressed. So
each profile lists the GPIOs it claims, read from its overlay source (raspberrypi/linux,
arch/arm/boot/dts/overlays/<name>-overlay.dts) or the board's documentation; the pin map is
checked against it (`clashes`), and each profile ships a default pin map that avoids them
(`hardware/pinmap*.toml`, packaged under `stagebox/data/`).

Every HAT here uses I2S (GPIO 18-21) and most use I2C (GPIO 2-3) for the codec; the pin map
refuses those pins for everyone (`stagebox.gpio.pinmap.RESERVED`), so they are not repeated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class HatProfile:
    """One audio interface the stage supports: config.txt line, ALSA card, channels, pins."""

    name: str  # the value of `audio.hat`
    title: str  # what is printed on the box
    dtoverlay: str | None  # overlay in config.txt; None: nothing to load (USB, none)
    card: str | None  # ALSA card id (`aplay -l`, hw:CARD=<card>); None: any (USB) or none
    capture_channels: int | None  # channels the card captures; None: the interface decides
    playback_channels: int | None
    layout: str  # how the stage uses the channels, for docs and `stagebox doctor`
    # GPIO (BCM) -> what the HAT uses it for, with the source it was read from
    claims: dict[int, str] = field(default_factory=dict)
    pinmap: str = "pinmap.toml"  # its default pin map, in stagebox/data (hardware/)
    firmware: str = "config.txt"  # its config.txt fragment in firmware/


_STEREO_LAYOUT = (
    "capture 1 (left in): the mic preamp's line out; capture 2 (right in): LTC from the DAW; "
    "playback 1+2: the actor's headphones (beeps)"
)

PROFILES: dict[str, HatProfile] = {
    p.name: p
    for p in (
        # hifiberry-dacplusadcpro-overlay.dts: I2S, and on i2c1 a PCM5122 at 0x4d and a
        # PCM1863 at 0x4a; no other GPIO.
        HatProfile(
            "hifiberry-dacplusadcpro",
            "HiFiBerry DAC+ ADC Pro",
            "hifiberry-dacplusadcpro",
            "sndrpihifiberry",
            2,
            2,
            _STEREO_LAYOUT,
        ),
        # hifiberry-dacplusadc-overlay.dts: I2S, a PCM5122 on i2c1 at 0x4d; no other GPIO.
        HatProfile(
            "hifiberry-dacplusadc",
            "HiFiBerry DAC+ ADC",
            "hifiberry-dacplusadc",
            "sndrpihifiberry",
            2,
            2,
            _STEREO_LAYOUT,
            firmware="config-hifiberry-dacplusadc.txt",
        ),
        # iqaudio-codec-overlay.dts: I2S and a DA7213 on i2c1 at 0x1a; the driver names the
        # card "IQaudIOCODEC" (sound/soc/bcm/iqaudio-codec.c, no card_name in the overlay).
        # The board's push
        # button is wired to GPIO 27 (raspberrypi/documentation, accessories/audio/
        # getting_started.adoc: "the Codec Zero's on-board button, which is pre-wired to
        # GPIO 27").
        HatProfile(
            "codec-zero",
            "Raspberry Pi Codec Zero",
            "iqaudio-codec",
            "IQaudIOCODEC",
            2,
            2,
            "capture 1 and 2: the DA7213's left and right ADC (the mixer state routes AUX in "
            "and the mic to them): mic on 1, LTC on 2; playback 1+2: the headphone out (beeps)",
            claims={27: "the Codec Zero's on-board push button (pre-wired to GPIO 27)"},
            pinmap="pinmap-codec-zero.toml",
            firmware="config-codec-zero.txt",
        ),
        # pisound-overlay.dts: osr-gpios 13, 26, 16; reset-gpios 12, 24; data_available-gpios
        # 25; button-gpios 17 (pulled up); and spi0 for its MIDI microcontroller (GPIO 7-11,
        # spi0_pins and both chip selects).
        HatProfile(
            "pisound",
            "Blokas Pisound",
            "pisound",
            "pisound",
            2,
            2,
            _STEREO_LAYOUT,
            claims={
                7: "the Pisound's SPI0 chip select 1 (spidev@1)",
                8: "the Pisound's SPI0 chip select 0 (its MIDI microcontroller)",
                9: "the Pisound's SPI0 MISO",
                10: "the Pisound's SPI0 MOSI",
                11: "the Pisound's SPI0 clock",
                12: "the Pisound's reset line (reset-gpios)",
                13: "the Pisound's ADC oversampling select (osr-gpios)",
                16: "the Pisound's ADC oversampling select (osr-gpios)",
                17: "the Pisound's button (button-gpios)",
                24: "the Pisound's reset line (reset-gpios)",
                25: "the Pisound's data-available line (data_available-gpios)",
                26: "the Pisound's ADC oversampling select (osr-gpios)",
            },
            pinmap="pinmap-pisound.toml",
            firmware="config-pisound.txt",
        ),
        # A class-compliant USB interface: no overlay, no GPIO; the card's name and its
        # channels are the interface's own (set audio.capture_device and the channels).
        HatProfile(
            "usb",
            "class-compliant USB audio interface",
            None,
            None,
            None,
            None,
            "the interface's own: set audio.capture_channels, ltc_channel and mic_channels",
            firmware="config-usb.txt",
        ),
        # No audio HAT (a stage run from the simulator, or an interface set up by hand).
        HatProfile(
            "none",
            "no audio HAT",
            None,
            None,
            None,
            None,
            "none: the audio device is whatever audio.capture_device names",
            firmware="config-usb.txt",
        ),
    )
}

DEFAULT_HAT = "hifiberry-dacplusadcpro"


def profile(name: str) -> HatProfile:
    """The profile called `name` (one of PROFILES)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown audio HAT {name!r} (HATs: {', '.join(PROFILES)})") from None


def default_pinmap_path(hat: str = DEFAULT_HAT) -> Path:
    """The pin map shipped for `hat` (in a checkout: hardware/pinmap*.toml via a link)."""
    return Path(str(resources.files("stagebox") / "data" / profile(hat).pinmap))


def pinmap_path(cfg) -> Path:
    """The pin map the stage runs with: `lights.pinmap`, else the HAT profile's default."""
    return Path(cfg.lights.pinmap) if cfg.lights.pinmap else default_pinmap_path(cfg.audio.hat)


def clashes(hat: HatProfile, pinmap) -> list[str]:
    """One line per pin-map pin that the HAT claims, naming both uses."""
    return [
        f"GPIO {pin.bcm} (header pin {pin.header}) is {pin.name} ({pin.label}) in "
        f"{pinmap.path} and {hat.claims[pin.bcm]} on the {hat.title}"
        for pin in pinmap.pins
        if pin.bcm in hat.claims
    ]


def card_of(device: str) -> str | None:
    """The card named in an ALSA device string (`hw:CARD=pisound,DEV=0` -> "pisound")."""
    match = re.search(r"CARD=([^,]+)", device)
    return match[1] if match else None
