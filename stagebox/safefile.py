"""Opening the files engineers name, safely: a regular file, within a size cap, or a one-line why.

Every file stagebox reads because a config, a command line or a client named it (the config,
the pin map, a cue sheet, a stage feed, a take and its side files) goes through here first. A
path can name anything: `/dev/zero` (endless), a FIFO (an open that blocks until a writer
comes), a folder, a 100,000-character name, a NUL byte, a lone surrogate that cannot be
encoded. Each of these becomes a `FileRefused` (a ValueError) whose message names the path and
the reason; nothing blocks, and nothing reads more than the cap.

The file is opened with O_NONBLOCK (so a FIFO's open returns at once) and O_NOCTTY, then
checked with fstat on the descriptor that will be read (no gap between check and read).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MIB = 1 << 20

# Caps for the kinds of file stagebox reads whole (bytes).
CONFIG_MAX_BYTES = 1 * MIB  # a config is a few kilobytes
PINMAP_MAX_BYTES = 1 * MIB
SIDECAR_MAX_BYTES = 1 * MIB  # a take's open marker (.open JSON)
TAKE_LOG_MAX_BYTES = 256 * MIB  # the takes folder's journal: a season of takes is a few MB

_PATH_MAX = 4096  # bytes, with the final NUL (Linux PATH_MAX)
_MAX_SHOWN = 80  # characters of a path shown in a message


class FileRefused(ValueError):
    """A path that cannot be read as the file it should be; the message is one line."""

    def __init__(self, path: object, reason: str, oserror: OSError | None = None) -> None:
        super().__init__(f"{show_path(path)}: {reason}")
        self.path = path
        self.reason = reason
        self.oserror = oserror  # the open's own error, for callers that handle OSError


def show_path(path: object) -> str:
    """A path for a one-line message: control characters escaped, long names shortened."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN // 2 - 2] + "..." + text[-(_MAX_SHOWN // 2 - 1) :]
    return text


def path_problem(raw: object) -> str | None:
    """Why `raw` cannot be a path on this system (None if it can): type, NUL, encoding, length."""
    if not isinstance(raw, (str, os.PathLike)):
        return f"a path must be a string, not {type(raw).__name__}"
    text = os.fspath(raw)
    if isinstance(text, bytes):
        return "a path must be a string"
    if "\x00" in text:
        return "the path contains a NUL character"
    try:
        encoded = os.fsencode(text)
    except UnicodeEncodeError:
        return "the path contains characters that cannot be encoded (a lone surrogate?)"
    if len(encoded) >= _PATH_MAX:
        return f"the path is too long ({len(encoded):,} bytes; at most {_PATH_MAX - 1:,})"
    name_max = 255  # bytes per name on ext4, FAT and every file system a stage uses
    if any(len(part) > name_max for part in encoded.split(b"/")):
        return f"a name in the path is longer than {name_max} bytes"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long"
    return exc.strerror or str(exc)


def open_regular(path: str | os.PathLike, max_bytes: int | None, what: str = "file") -> int:
    """A read-only descriptor of `path`, checked to be a regular file of at most `max_bytes`.

    The caller owns (and closes) the descriptor; it is in blocking mode again. Raises
    FileRefused naming `path` and what is wrong (`what` says what the file should be).
    """
    problem = path_problem(path)
    if problem:
        raise FileRefused(path, problem)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileRefused(path, f"cannot open the {what}: {_reason(exc)}", exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(path, f"{_kind(st.st_mode)}, not a {what}")
        if max_bytes is not None and st.st_size > max_bytes:
            raise FileRefused(
                path, f"{st.st_size:,} bytes is too large for a {what} (at most {max_bytes:,})"
            )
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The whole of `path` (a regular file of at most `max_bytes`), or FileRefused."""
    fd = open_regular(path, max_bytes, what)
    try:
        with os.fdopen(fd, "rb", closefd=True) as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise FileRefused(path, f"cannot read the {what}: {_reason(exc)}") from None
    if len(data) > max_bytes:  # it grew between the check and the read
        raise FileRefused(path, f"too large for a {what} (at most {max_bytes:,} bytes)")
    return data


def read_text_bounded(path: str | os.PathLike, max_bytes: int, what: str = "file") -> str:
    """`read_bounded` decoded as UTF-8; a file that is not text is refused with the line."""
    data = read_bounded(path, max_bytes, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(path, f"line {line}: not UTF-8 text (is it a {what}?)") from None


def resolved(path: str | os.PathLike) -> Path:
    """`path` with `..` and symbolic links resolved as far as the path exists."""
    return Path(os.path.realpath(path))


def toml_loads(text: str) -> dict:
    """tomllib.loads, with nesting too deep for the parser's recursion as a TOMLDecodeError."""
    import tomllib  # (here: most readers of files, such as `wavfile`, parse no TOML)

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("arrays or tables nested too deeply") from None


def json_loads(data: str | bytes) -> object:
    """json.loads, with nesting too deep for the parser's recursion as a ValueError."""
    import json  # (here, as tomllib above)

    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
