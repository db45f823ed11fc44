"""Cross-field checks: values that are each fine alone but clash with one another."""

from __future__ import annotations

from collections.abc import Iterator

from stagebox.config.schema import Config

# The slowest timecode rate: a frame lasts at most 1/23.976 s.
_LONGEST_FRAME_SECONDS = 1001 / 24000


def _missing(channels, key: str, opened: int, kind: str, section: str = "audio"):
    """(keys, reason) for each of `channels` (`section`.`key`) past the `opened` channels."""
    for channel in channels:
        if channel > opened:
            yield (
                (f"{section}.{key}", f"audio.{kind}_channels"),
                f"channel {channel} does not exist: only {opened} {kind} channels are opened "
                f"(audio.{kind}_channels)",
            )


def _hat_checks(cfg: Config):
    """The HAT profile against the audio device, its channels and the pin map."""
    from stagebox.gpio.pinmap import PinMapError, load_pinmap
    from stagebox.hats import card_of, clashes, pinmap_path, profile

    audio = cfg.audio
    hat = profile(audio.hat)
    # The card and its channels matter to the ALSA backend; the simulator has its own.
    for key in ("capture_device", "playback_device") if audio.backend == "alsa" else ():
        card = card_of(getattr(audio, key))
        if hat.card is not None and card is not None and card != hat.card:
            yield (
                (f"audio.{key}", "audio.hat"),
                f"names ALSA card {card!r} but the {hat.title} (audio.hat = {hat.name!r}) is "
                f"card {hat.card!r}: hw:CARD={hat.card},DEV=0",
            )
    for kind in ("capture", "playback"):
        has = getattr(hat, f"{kind}_channels")
        opened = getattr(audio, f"{kind}_channels")
        if audio.backend == "alsa" and has is not None and opened > has:
            yield (
                (f"audio.{kind}_channels", "audio.hat"),
                f"{opened} channels but the {hat.title} has {has} {kind} channels",
            )
    try:
        pinmap = load_pinmap(pinmap_path(cfg))
    except PinMapError as exc:
        yield (("lights.pinmap",), str(exc))
        return
    key = "lights.pinmap" if cfg.lights.pinmap else "audio.hat"
    for clash in clashes(hat, pinmap):
        yield ((key, "audio.hat", "lights.pinmap"), f"pin clash: {clash}")


def _phones_checks(cfg: Config):
    """The headphone mix's channels against the audio section's."""
    audio, phones = cfg.audio, cfg.phones
    talkback = phones.talkback_channel
    if talkback:
        if talkback > audio.capture_channels:
            yield (
                ("phones.talkback_channel", "audio.capture_channels"),
                f"channel {talkback} does not exist: only {audio.capture_channels} capture "
                "channels are opened (audio.capture_channels)",
            )
        for key, taken, why in (
            ("audio.ltc_channel", (audio.ltc_channel,), "the LTC input"),
            ("audio.mic_channels", audio.mic_channels, "the actor's mic (audio.mic_channels)"),
            ("audio.guide_channel", (cfg.audio.guide_channel,), "the guide (audio.guide_channel)"),
        ):
            if talkback in taken:
                yield (
                    ("phones.talkback_channel", key),
                    f"channel {talkback} is {why}: the talkback mic needs its own channel",
                )
    yield from _missing(
        phones.sidetone_channels, "sidetone_channels", audio.capture_channels, "capture", "phones"
    )
    if audio.ltc_channel in phones.sidetone_channels:
        yield (
            ("phones.sidetone_channels", "audio.ltc_channel"),
            f"channel {audio.ltc_channel} is the LTC input: timecode would scream in the "
            "actor's headphones",
        )


def cross_checks(cfg: Config) -> Iterator[tuple[tuple[str, ...], str]]:
    """Yield (keys involved, reason) for each clash; the first key is where it is reported."""
    audio = cfg.audio
    yield from _missing((audio.ltc_channel,), "ltc_channel", audio.capture_channels, "capture")
    if audio.ltc_channel in audio.mic_channels:
        yield (
            ("audio.ltc_channel", "audio.mic_channels"),
            f"channel {audio.ltc_channel} is the LTC input and also listed in "
            "audio.mic_channels: timecode would be recorded as dialogue",
        )
    yield from _missing(audio.mic_channels, "mic_channels", audio.capture_channels, "capture")
    guide = audio.guide_channel
    if guide:
        if guide > audio.capture_channels:
            yield (
                ("audio.guide_channel", "audio.capture_channels"),
                f"channel {guide} does not exist: only {audio.capture_channels} capture "
                "channels are opened (audio.capture_channels)",
            )
        if guide == audio.ltc_channel:
            yield (
                ("audio.guide_channel", "audio.ltc_channel"),
                f"channel {guide} is the LTC input: the guide needs its own channel",
            )
        if guide in audio.mic_channels:
            yield (
                ("audio.guide_channel", "audio.mic_channels"),
                f"channel {guide} is also listed in audio.mic_channels: the guide would be "
                "recorded as the actor's dialogue",
            )
    yield from _missing(
        audio.headphone_channels, "headphone_channels", audio.playback_channels, "playback"
    )

    yield from _phones_checks(cfg)

    beeps, stage = cfg.beeps, cfg.stage
    if beeps.enabled:
        lead = beeps.count * beeps.spacing_seconds  # seconds: first beep before TC-in
        if lead > stage.preroll_seconds:
            yield (
                ("stage.preroll_seconds", "beeps.count", "beeps.spacing_seconds"),
                f"{stage.preroll_seconds:g} s is shorter than the beeps, which start "
                f"{beeps.count} x {beeps.spacing_seconds:g} s = {lead:g} s before TC-in",
            )
        beep_seconds = beeps.length_frames * _LONGEST_FRAME_SECONDS
        if beep_seconds >= beeps.spacing_seconds:
            yield (
                ("beeps.length_frames", "beeps.spacing_seconds"),
                f"{beeps.length_frames} frames (up to {beep_seconds:.3f} s) do not fit between "
                f"beeps {beeps.spacing_seconds:g} s apart",
            )
        if beeps.frequency_hz >= audio.sample_rate / 2:
            yield (
                ("beeps.frequency_hz", "audio.sample_rate"),
                f"{beeps.frequency_hz:g} Hz is above the Nyquist frequency of "
                f"{audio.sample_rate} Hz audio",
            )

    display = cfg.display
    if display.enabled and display.streamer_seconds > stage.preroll_seconds:
        yield (
            ("display.streamer_seconds", "stage.preroll_seconds"),
            f"a {display.streamer_seconds:g} s streamer starts before the cue's pre-roll "
            f"(stage.preroll_seconds = {stage.preroll_seconds:g})",
        )

    yield from _hat_checks(cfg)

    buttons = cfg.buttons
    if buttons.enabled and buttons.long_press_ms <= buttons.debounce_ms:
        yield (
            ("buttons.long_press_ms", "buttons.debounce_ms"),
            f"a long press ({buttons.long_press_ms} ms) must last longer than the debounce "
            f"({buttons.debounce_ms} ms)",
        )

    daw = cfg.daw
    if daw.enabled and daw.backend == "rawmidi" and not daw.port.strip():
        yield (
            ("daw.port", "daw.backend"),
            "the rawmidi backend needs the device: hw:CARD,DEV or /dev/snd/midiC*D* "
            "(`amidi -l` lists them)",
        )
    if daw.enabled and daw.preroll_seconds is not None and beeps.enabled:
        lead = beeps.count * beeps.spacing_seconds  # seconds: first beep before TC-in
        if daw.preroll_seconds < lead:
            yield (
                ("daw.preroll_seconds", "beeps.count", "beeps.spacing_seconds"),
                f"the DAW would roll from {daw.preroll_seconds:g} s before TC-in, after the "
                f"first beep ({lead:g} s before it): the actor would miss beeps",
            )

    if cfg.control.socket.parent == cfg.takes.folder:
        yield (
            ("control.socket", "takes.folder"),
            "the control socket must not live in the takes folder",
        )
