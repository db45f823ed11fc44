"""What the service will open, checked before it starts: the half of validation types cannot do.

A value can be well-typed and still stop `stagebox run`: a stage feed that is `/etc/passwd`, a
pin map that is not TOML, a socket path longer than a unix socket holds, a socket that lands in
the takes folder through `..`. `load_config` runs these checks on every config it reads, so
`stagebox config check` (the unit's ExecStartPre), `stagebox run` and a reload (SIGHUP) refuse
the same configs, each problem with its key; a config that passes starts.

Checked: the kind of each path (a folder where a folder is made, a regular readable file where
one is read, within its size cap), the files' formats (stage feed a WAV, pin map a valid map,
cue sheet a text file), the socket path's length and place. Not checked: permissions of
folders the service creates (the service may run as another user than the one checking).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from stagebox.config.schema import Config
from stagebox.safefile import (
    TAKE_LOG_MAX_BYTES,
    FileRefused,
    open_regular,
    path_problem,
    resolved,
    show_path,
)

# bytes: sockaddr_un.sun_path is 108 bytes on Linux, with the terminating NUL
SOCKET_PATH_MAX = 107
# stagebox.takes.LOG_NAME, named here so that checking a config imports no numpy (the
# installer checks the config before the venv has it); a test keeps the two equal.
TAKE_LOG_NAME = "takes.jsonl"


def service_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    """Yield (key, reason) for each path in `cfg` the service could not open as it needs."""
    yield from _folder("takes.folder", cfg.takes.folder)
    yield from _take_log("takes.folder", cfg.takes.folder)
    yield from _socket(cfg)
    audio = cfg.audio
    if audio.backend == "sim":
        if audio.sim_feed is None:
            yield ("audio.sim_feed", "the sim audio backend needs a stage feed WAV file here")
        else:
            yield from _wav("audio.sim_feed", audio.sim_feed, cfg)
    if cfg.lights.pinmap is not None:
        yield from _pinmap("lights.pinmap", cfg.lights.pinmap)
    if cfg.stage.cue_sheet is not None:
        yield from _cue_sheet("stage.cue_sheet", cfg.stage.cue_sheet, cfg.stage.cue_sheet_encoding)


def _nearest_existing(path: Path) -> Path:
    """`path`, or the nearest of its parents that exists (the service makes the rest)."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path("/")


def _folder(key: str, path: Path) -> Iterator[tuple[str, str]]:
    problem = path_problem(path)
    if problem:
        yield (key, problem)
        return
    there = _nearest_existing(Path(os.path.abspath(path)))
    if not there.is_dir():
        yield (key, f"{show_path(path)} cannot be a folder: {show_path(there)} is not a folder")


def _take_log(key: str, folder: Path) -> Iterator[tuple[str, str]]:
    """The folder's take log, if there is one, must be a file the service can read."""
    log = folder / TAKE_LOG_NAME
    if path_problem(folder) is None and os.path.lexists(log):
        try:
            os.close(open_regular(log, TAKE_LOG_MAX_BYTES, "take log"))
        except FileRefused as exc:
            yield (key, str(exc))


def _socket(cfg: Config) -> Iterator[tuple[str, str]]:
    key, path = "control.socket", cfg.control.socket
    problem = path_problem(path)
    if problem:
        yield (key, problem)
        return
    size = len(os.fsencode(str(path)))
    if size > SOCKET_PATH_MAX:
        yield (
            key,
            f"the socket path is {size} bytes; a unix socket path holds at most "
            f"{SOCKET_PATH_MAX} (choose a shorter one, e.g. /run/stagebox/control.sock)",
        )
    try:
        st = os.lstat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISSOCK(st.st_mode):
        yield (
            key,
            f"{show_path(path)} exists and is not a socket (the service would not replace it)",
        )
    parent = path.parent
    there = _nearest_existing(Path(os.path.abspath(parent)))
    if not there.is_dir():
        yield (key, f"the socket's folder cannot be made: {show_path(there)} is not a folder")
    takes = cfg.takes.folder
    if path_problem(takes) is None:
        real_socket, real_takes = resolved(path), resolved(takes)
        if real_socket.is_relative_to(real_takes):
            yield (
                key,
                f"the control socket must not live in the takes folder ({show_path(path)} is "
                f"inside {show_path(real_takes)})",
            )


def _wav(key: str, path: Path, cfg: Config) -> Iterator[tuple[str, str]]:
    """The stage feed: a WAV with audio, whose channels are the sim backend's capture
    channels, so the LTC and mic channels must be among them."""
    from stagebox.wavfile import WavError, read_wav_info

    try:
        info = read_wav_info(path)
    except WavError as exc:
        yield (key, f"not a stage feed WAV: {exc}")
        return
    if info.frames == 0:
        yield (key, f"{show_path(path)}: the WAV file holds no audio")
    audio = cfg.audio
    for name, channels in (
        ("ltc_channel", (audio.ltc_channel,)),
        ("mic_channels", audio.mic_channels),
    ):
        for channel in channels:
            if channel > info.channels:
                yield (
                    f"audio.{name}",
                    f"channel {channel} does not exist: the stage feed {show_path(path.name)} has "
                    f"{info.channels} channel{'s' if info.channels != 1 else ''} "
                    "(audio.sim_feed)",
                )


def _pinmap(key: str, path: Path) -> Iterator[tuple[str, str]]:
    from stagebox.gpio.pinmap import PinMapError, load_pinmap

    try:
        load_pinmap(path)
    except PinMapError as exc:
        yield (key, str(exc).splitlines()[0])


def _cue_sheet(key: str, path: Path, fallback: str | None) -> Iterator[tuple[str, str]]:
    """A cue sheet must be a text file; what its lines say is `stagebox cues check`'s job
    (the service starts with a sheet it cannot load, and says why in its status)."""
    from stagebox.cues import CueSheetError
    from stagebox.cues.loader import read_sheet_text

    try:
        text, _ = read_sheet_text(path, fallback=fallback)  # as the service reads it
    except (CueSheetError, FileRefused) as exc:
        yield (key, str(exc).splitlines()[0])
        return
    if "\x00" in text:
        yield (key, f"{show_path(path)}: has NUL characters: not a text file (is it a cue sheet?)")
