"""The audio HAT: its overlay in config.txt, and its ALSA card present."""

from __future__ import annotations

import re

from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, WARN, Result
from stagebox.hats import PROFILES, card_of, profile

BOOT_CONFIGS = ("/boot/firmware/config.txt", "/boot/config.txt")  # bookworm, then older


def active_overlays(text: str, model: str = "") -> list[str]:
    """The `dtoverlay=` lines in force for this model, in order ("name,param,...").

    config.txt's conditional sections ([all], [pi4], [pi5], ...) decide which lines apply;
    a line under a filter this model does not match is not in force.
    """
    applies = True
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        section = re.fullmatch(r"\[(\w+)\]", line)
        if section:
            name = section[1].lower()
            applies = name == "all" or (
                (name == "pi4" and "Pi 4" in model)
                or (name == "pi400" and "Pi 400" in model)
                or (name == "pi5" and "Pi 5" in model)
            )
            continue
        if applies and line.startswith("dtoverlay="):
            out.append(line.removeprefix("dtoverlay="))
    return out


def check_overlay(ctx: Context) -> Result:
    hat = profile(ctx.cfg.audio.hat)
    where = ctx.machine.first(*BOOT_CONFIGS)
    if where is None:
        return Result("hat overlay", FAIL, "no /boot/firmware/config.txt", "run doctor on the Pi")
    model = (ctx.machine.read("/proc/device-tree/model") or "").strip()
    overlays = active_overlays(ctx.machine.read(where) or "", model)
    names = [o.split(",")[0] for o in overlays]
    other_hats = sorted(
        {p.dtoverlay for p in PROFILES.values() if p.dtoverlay and p.dtoverlay in names}
        - {hat.dtoverlay}
    )
    data = {"config": where, "overlays": overlays}
    fragment = f"/opt/stagebox/firmware/{hat.firmware}"
    if other_hats:
        return Result(
            "hat overlay",
            FAIL,
            f"{where} loads {', '.join(other_hats)} but audio.hat is {hat.name!r} ({hat.title})",
            f"keep one audio overlay: the lines of {fragment}, or set audio.hat",
            data,
        )
    if hat.dtoverlay and hat.dtoverlay not in names:
        return Result(
            "hat overlay",
            FAIL,
            f"{where} has no dtoverlay={hat.dtoverlay} for the {hat.title}",
            f"append {fragment} to {where} and reboot (sudo ./install.sh offers to)",
            data,
        )
    if "vc4-kms-v3d" in names and "vc4-kms-v3d,noaudio" not in overlays:
        return Result(
            "hat overlay",
            WARN,
            f"{where}: vc4-kms-v3d without noaudio: HDMI audio is a second sound card",
            f"replace dtoverlay=vc4-kms-v3d by dtoverlay=vc4-kms-v3d,noaudio in {where}",
            data,
        )
    what = f"dtoverlay={hat.dtoverlay}" if hat.dtoverlay else f"no overlay needed ({hat.title})"
    return Result("hat overlay", PASS, f"{what} in {where}", data=data)


def alsa_cards(text: str) -> dict[str, str]:
    """/proc/asound/cards -> card id: description (" 0 [sndrpihifiberry]: HifiberryDacp - ...")."""
    cards = {}
    for line in text.splitlines():
        match = re.match(r"\s*\d+\s+\[(\S+)\s*\]:\s*(.*)", line)
        if match:
            cards[match[1]] = match[2].strip()
    return cards


def check_card(ctx: Context) -> Result:
    if ctx.cfg.audio.backend != "alsa":
        return Result("sound card", PASS, f"audio.backend = {ctx.cfg.audio.backend!r}")
    hat = profile(ctx.cfg.audio.hat)
    wanted = hat.card or card_of(ctx.cfg.audio.capture_device)
    text = ctx.machine.read("/proc/asound/cards")
    if text is None:
        return Result(
            "sound card",
            FAIL,
            "no /proc/asound/cards: no sound driver loaded",
            "check the overlay line and reboot; `dmesg | grep -i snd` shows why a card failed",
        )
    cards = alsa_cards(text)
    data = {"cards": cards, "wanted": wanted}
    if wanted is None:
        return Result(
            "sound card",
            WARN,
            f"audio.capture_device {ctx.cfg.audio.capture_device!r} names no card; cards: "
            f"{', '.join(cards) or 'none'}",
            "name the card: hw:CARD=<id>,DEV=0 (arecord -L lists them)",
            data,
        )
    if wanted not in cards:
        return Result(
            "sound card",
            FAIL,
            f"no ALSA card {wanted!r} ({hat.title}); cards: {', '.join(cards) or 'none'}",
            "seat the HAT, check the overlay line, reboot; a HiFiBerry with a wrong EEPROM "
            "needs force_eeprom_read=0",
            data,
        )
    extra = sorted(set(cards) - {wanted})
    if extra:
        return Result(
            "sound card",
            WARN,
            f"card {wanted!r} present, and also {', '.join(extra)}",
            "turn onboard and HDMI audio off (dtparam=audio=off, vc4-kms-v3d,noaudio) so the "
            "card list never moves",
            data,
        )
    return Result("sound card", PASS, f"card {wanted!r}: {cards[wanted]}", data=data)
