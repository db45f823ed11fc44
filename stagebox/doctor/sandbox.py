"""What each backend opens on the Pi, and whether the systemd unit's sandbox lets it.

The unit is hardened (systemd.exec(5)): `ProtectSystem=strict` makes the file system read-only
but for the unit's own folders, `DevicePolicy=closed` with `DeviceAllow=` lists the device
nodes it may open, `ProtectProc=invisible` hides other users' processes and `ProcSubset=pid`
would hide everything in /proc that is not a process. Each of those can starve a backend of a
file it opens, and the failure then shows up far from its cause ("This module can only be run
on a Raspberry Pi!" from a GPIO library that could not read /proc/device-tree). So the files
are listed here, per backend, from the libraries' sources, and checked against the unit: by
the test suite on the shipped unit, and by `stagebox doctor` on the installed one (with the
engineer's drop-ins).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Need:
    """One file a backend opens: where, how, and the device class of a device node."""

    backend: str  # "lights=rpigpio", "audio=alsa", ...: the config choice that opens it
    path: str  # absolute path, may hold a glob: "/dev/gpiochip*"
    access: str  # "r" | "rw" | "dir-rw" (a folder the library creates files in)
    why: str  # what opens it, with the source it was read from
    device_class: str = ""  # for a /dev node: its major's name in /proc/devices ("gpiochip")


# The files, per config choice. Sources are cited in `why`, so the next reader can check them.
NEEDS: tuple[Need, ...] = (
    # rpi-lgpio (waveform80/rpi-lgpio, RPi/GPIO/__init__.py, _get_rpi_info): reads the board
    # revision from /proc/device-tree/system/linux,revision and raises RuntimeError "This
    # module can only be run on a Raspberry Pi!" when it cannot; setmode() opens gpiochip 0.
    Need(
        "lights=rpigpio",
        "/proc/device-tree/system/linux,revision",
        "r",
        "rpi-lgpio reads the board revision on setmode (RPi/GPIO/__init__.py _get_rpi_info)",
    ),
    Need(
        "lights=rpigpio",
        "/dev/gpiochip*",
        "rw",
        "lgpio opens the GPIO character device (lgpio.gpiochip_open(0))",
        "gpiochip",
    ),
    # lgpio.py creates its notification pipe `.lgd-nfy<N>` in the working directory when
    # imported (joan2937/lg issue 22, gpiozero issue 1106): an unwritable working directory
    # makes `import lgpio` fail with FileNotFoundError '.lgd-nfy-3'.
    Need(
        "lights=rpigpio",
        "@WorkingDirectory",
        "dir-rw",
        "lgpio creates its notification pipe .lgd-nfy<N> in the working directory on import "
        "(joan2937/lg#22)",
    ),
    # ALSA's hw plugin opens the card's control and PCM nodes (alsa-lib src/control/
    # control_hw.c "/dev/snd/controlC%i", src/pcm/pcm_hw.c "/dev/snd/pcmC%iD%i%c").
    Need(
        "audio=alsa",
        "/dev/snd/controlC*",
        "rw",
        "alsa-lib opens the card's control device",
        "alsa",
    ),
    Need("audio=alsa", "/dev/snd/pcmC*", "rw", "alsa-lib opens the PCM device", "alsa"),
    # SDL's KMSDRM driver opens the DRM card node; pygame-ce's GL path the render node. The
    # connector state comes from sysfs (stagebox/display/kmsdrm.py).
    Need("display=kmsdrm", "/dev/dri/card*", "rw", "SDL KMSDRM opens the DRM card", "drm"),
    Need("display=kmsdrm", "/dev/dri/renderD*", "rw", "Mesa opens the render node", "drm"),
    Need(
        "display=kmsdrm",
        "/sys/class/drm/card*-HDMI-A-*/status",
        "r",
        "stagebox reads the HDMI connector state (stagebox/display/kmsdrm.py)",
    ),
    # MMC to the DAW: python-rtmidi's ALSA API opens the sequencer (alsa-lib src/seq/seq_hw.c
    # snd_seq_hw_open: "/dev/snd/seq"); the rawmidi backend the card's raw MIDI device
    # (the kernel names it midiC<card>D<device>, sound/core/rawmidi.c).
    Need("daw=alsa", "/dev/snd/seq", "rw", "alsa-lib opens the ALSA sequencer", "alsa"),
    Need("daw=rawmidi", "/dev/snd/midiC*", "rw", "stagebox writes the raw MIDI device", "alsa"),
    # smbus2 opens /dev/i2c-<bus> (smbus2/smbus2.py SMBus.open).
    Need("panel=on", "/dev/i2c-*", "rw", "smbus2 opens the I2C bus for the front panel", "i2c"),
)


def needs_for(backends: set[str]) -> list[Need]:
    """The needs of the given config choices ("lights=rpigpio", "audio=alsa", ...)."""
    return [n for n in NEEDS if n.backend in backends]


def backends_of(cfg) -> set[str]:
    """The config choices of `cfg` that open hardware on the Pi."""
    chosen = {
        f"audio={cfg.audio.backend}",
        f"lights={cfg.lights.backend}",
        f"display={cfg.display.backend if cfg.display.enabled else 'off'}",
        f"panel={'on' if cfg.panel.enabled else 'off'}",
        f"daw={cfg.daw.backend if cfg.daw.enabled else 'off'}",
    }
    return chosen


# -- the unit, as systemd reads it ---------------------------------------------------------


def read_unit(path: Path) -> dict[str, list[str]]:
    """Key -> its values in the unit and its drop-ins (`path`.d/*.conf, in name order).

    An empty assignment (`DeviceAllow=`) resets the list, as systemd does.
    """
    settings: dict[str, list[str]] = {}
    files = [path, *sorted(Path(str(path) + ".d").glob("*.conf"))]
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith(("#", ";", "[")):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                continue
            key, value = key.strip(), value.strip()
            if value == "":
                settings[key] = []
            else:
                settings.setdefault(key, []).append(value)
    return settings


def _last(settings: dict[str, list[str]], key: str, default: str = "") -> str:
    values = settings.get(key)
    return values[-1] if values else default


def _yes(value: str) -> bool:
    return value.lower() in ("yes", "true", "on", "1")


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def writable_folders(settings: dict[str, list[str]]) -> list[str]:
    """Folders the unit may write in under ProtectSystem= (strict: only these)."""
    folders = []
    for key, base in (
        ("RuntimeDirectory", "/run"),
        ("StateDirectory", "/var/lib"),
        ("CacheDirectory", "/var/cache"),
        ("LogsDirectory", "/var/log"),
    ):
        for value in settings.get(key, []):
            folders += [f"{base}/{name}" for name in value.split()]
    for value in settings.get("ReadWritePaths", []):
        folders += [p.lstrip("-+") for p in value.split()]
    if _yes(_last(settings, "PrivateTmp")):
        folders += ["/tmp", "/var/tmp"]
    return folders


def problem(need: Need, settings: dict[str, list[str]]) -> str:
    """Why the unit keeps `need` from its backend, or "" when the sandbox lets it through."""
    path = need.path
    if need.access == "dir-rw":
        path = _last(settings, "WorkingDirectory", "/").lstrip("-~") or "/"
    for value in settings.get("InaccessiblePaths", []):
        for hidden in value.split():
            if _under(path, hidden.lstrip("-+")):
                return f"InaccessiblePaths={hidden} hides {path}"
    # systemd.exec(5), ProcSubset=: "pid" hides all that is not process introspection.
    in_proc = path.startswith("/proc/") and not path.split("/")[2].isdigit()
    if in_proc and _last(settings, "ProcSubset", "all") == "pid":
        return f"ProcSubset=pid hides {path}"
    if path.startswith("/dev/"):
        # systemd.exec(5), PrivateDevices=: a private /dev with pseudo devices only;
        # DeviceAllow= does not bring the real nodes back.
        if _yes(_last(settings, "PrivateDevices")):
            return f"PrivateDevices=yes hides {path}"
        closed = _last(settings, "DevicePolicy", "auto") in ("closed", "strict")
        if closed and not _device_allowed(need, settings.get("DeviceAllow", [])):
            spec = f"char-{need.device_class}" if need.device_class else path
            return f"DevicePolicy=closed and no DeviceAllow={spec} {need.access}"
    if need.access in ("rw", "dir-rw") and not path.startswith(("/dev/", "/proc/", "/sys/")):
        protect = _last(settings, "ProtectSystem", "no")
        if protect == "strict" and not any(
            _under(path, folder) for folder in writable_folders(settings)
        ):
            what = "the working directory " if need.access == "dir-rw" else ""
            return f"ProtectSystem=strict makes {what}{path} read-only"
    return ""


def _device_allowed(need: Need, allows: list[str]) -> bool:
    for entry in allows:
        spec, _, access = entry.partition(" ")
        access = access.strip() or "rwm"
        if not set(need.access.replace("dir-", "")) <= set(access):
            continue
        if spec == f"char-{need.device_class}" and need.device_class:
            return True
        if fnmatch.fnmatch(need.path, spec) or spec == need.path:
            return True
    return False


def exposure_problems(settings: dict[str, list[str]], needs: list[Need]) -> list[str]:
    """One line per need the unit keeps from its backend, naming both."""
    out = []
    for need in needs:
        why = problem(need, settings)
        if why:
            out.append(f"{need.backend}: {why} ({need.why})")
    return out


# -- the doctor's check ---------------------------------------------------------------------


def check_sandbox(ctx) -> object:
    """The installed unit (with its drop-ins) against what the configured backends open."""
    from stagebox.doctor.report import FAIL, PASS, WARN, Result

    unit = ctx.machine.path(ctx.unit_path)
    if not unit.is_file():
        return Result(
            "unit sandbox",
            WARN,
            f"{ctx.unit_path} is not installed",
            "sudo ./install.sh installs the unit",
        )
    needs = needs_for(backends_of(ctx.cfg))
    problems = exposure_problems(read_unit(unit), needs)
    data = {"unit": ctx.unit_path, "needs": [n.path for n in needs], "problems": problems}
    if problems:
        return Result(
            "unit sandbox",
            FAIL,
            "; ".join(problems),
            f"restore {ctx.unit_path} from /opt/stagebox (install.sh) or undo the drop-in in "
            f"{ctx.unit_path}.d/",
            data,
        )
    return Result(
        "unit sandbox",
        PASS,
        f"{ctx.unit_path} exposes all {len(needs)} files the configured backends open",
        data=data,
    )
