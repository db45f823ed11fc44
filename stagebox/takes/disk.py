"""The takes folder on disk: the file-system seam every take byte goes through, the lock that
marks a take live, and the lock that keeps one service per takes folder.

Kept apart from the take file's format (`bwf`) so that the folder's rules (never overwrite,
who holds what, what is durable) read in one place.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

MARKER_SUFFIX = ".open"


class TakeError(OSError):
    """A take that cannot be opened, written or repaired; the message names the file."""


class TakeExistsError(TakeError, FileExistsError):
    """The take file already exists: takes are never overwritten."""


class DiskFullError(TakeError):
    """The disk filled up (ENOSPC) or free space is below the reserve."""


def take_is_live(path: str | os.PathLike) -> bool:
    """Whether a take is being recorded right now: its writer holds an exclusive lock on it
    (`TakeDisk.create_exclusive`). A crashed writer's lock is gone with its process, so a take
    left open by a crash is not live: it is one to repair."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


def marker_path(path: str | os.PathLike) -> Path:
    """The marker that says `path` is open: `.<name>.open` in the same folder."""
    p = Path(path)
    return p.with_name(f".{p.name}{MARKER_SUFFIX}")


# ---------------------------------------------------------------------------------------------
# The disk seam: every byte a take writes goes through one of these (tests inject failures).


class TakeDisk:
    """The file-system calls a take makes, as thin wrappers over `os` (a seam for tests)."""

    def create_exclusive(self, path: str) -> int:
        """Create the take (never an existing file) and hold an exclusive lock on it while it
        is open: `take_is_live` (take info, take repair, a second service) sees the lock."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, 0o644)  # audio, not a program: rw-r--r-- (less umask)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        return fd

    def write(self, fd: int, data: memoryview) -> int:
        return os.write(fd, data)

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, offset)
            view, offset = view[n:], offset + n

    def fdatasync(self, fd: int) -> None:
        os.fdatasync(fd)

    def ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def close(self, fd: int) -> None:
        os.close(fd)

    def free_bytes(self, folder: str) -> int:
        st = os.statvfs(folder)
        return st.f_bavail * st.f_frsize


OS_DISK = TakeDisk()


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a file's creation or removal in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# One service per takes folder

INSTANCE_LOCK = ".stagebox.lock"


class FolderInUseError(TakeError):
    """Another stagebox service records into this takes folder."""


class FolderLock:
    """An exclusive lock on a takes folder, held for as long as a service runs on it.

    Taken before anything in the folder is touched (repair, the take log), so a second
    `stagebox run` on the same folder stops at once instead of "repairing" the running
    service's live take. The lock dies with its process: a crashed service leaves none.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / INSTANCE_LOCK
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise FolderInUseError(
                errno.EBUSY,
                f"{self.path.parent}: another stagebox service (pid {holder}) records here",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def folder_in_use(folder: str | os.PathLike) -> bool:
    """Whether a running service holds `folder`'s lock (`take repair` then leaves the log
    to that service)."""
    try:
        FolderLock(folder).acquire().release()
    except FolderInUseError:
        return True
    except OSError:
        return False
    return False
