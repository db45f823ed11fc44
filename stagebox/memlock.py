"""Lock the service's memory into RAM (mlockall), so the audio path never waits on paging.

An audio period is 5.3 ms; a page fault that has to read a page back from swap or zram (or a
file-backed page of numpy's code from the SD card) can take longer, and the result is an
xrun: a click in the actor's headphones and a gap in the take. `mlockall` keeps every page
of the process in RAM.

How much a process may lock is RLIMIT_MEMLOCK (the unit's `LimitMEMLOCK=`):

- unlimited (the unit ships `LimitMEMLOCK=infinity`): `MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT`,
  every page present and to come is locked as it is first touched (ONFAULT: address space
  that is only reserved, such as thread stacks and malloc arenas, costs no RAM).
- a finite limit: the kernel refuses `MCL_CURRENT` outright with ENOMEM when the process
  maps more than the limit (mm/mlock.c compares the whole mapped size, not what is resident),
  and with `MCL_FUTURE` a later allocation past the limit would fail as MemoryError in the
  middle of a take. So under a finite limit only the present pages are locked (no
  MCL_FUTURE), and if even that is refused the service says so once, with the sizes and the
  fix, and runs on unlocked: a stage that runs with a small risk of an xrun under memory
  pressure beats one that does not start.

Called once the service has started (its buffers are allocated). Linux only; elsewhere it
reports that nothing was locked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import resource
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("stagebox.memlock")

# <sys/mman.h> (Linux, every architecture stagebox runs on)
MCL_CURRENT = 1
MCL_FUTURE = 2
MCL_ONFAULT = 4


@dataclass(frozen=True)
class MemoryLock:
    """What was locked, and the one line the journal gets about it."""

    current: bool  # the pages present at the call are locked
    future: bool  # pages mapped later are locked too
    message: str


def mapped_bytes(status: Path = Path("/proc/self/status")) -> int | None:
    """The process's mapped size (VmSize), what the kernel weighs against the limit."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def lock_memory(libc=None, limit: int | None = None, mapped: int | None = None) -> MemoryLock:
    """mlockall as the limit allows; logs and returns what happened (never raises).

    `libc` (anything with `mlockall(flags) -> int`), `limit` (bytes, or
    resource.RLIM_INFINITY) and `mapped` (bytes) stand in for the real ones in tests.
    """
    if limit is None:
        limit = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0]
    unlimited = limit == resource.RLIM_INFINITY
    flags = MCL_CURRENT | MCL_ONFAULT | (MCL_FUTURE if unlimited else 0)
    if libc is None:
        name = ctypes.util.find_library("c")
        if name is None:
            result = MemoryLock(False, False, "memory not locked: no C library (not Linux?)")
            log.warning("%s", result.message)
            return result
        libc = ctypes.CDLL(name, use_errno=True)
    if libc.mlockall(flags) == 0:
        if unlimited:
            result = MemoryLock(True, True, "memory locked (mlockall, present and future pages)")
            log.info("%s", result.message)
        else:
            result = MemoryLock(
                True,
                False,
                f"memory locked as it is now; later allocations are not locked because "
                f"LimitMEMLOCK is {_mb(limit)}, not infinity (a locked allocation past it "
                f"would fail mid-take)",
            )
            log.warning("%s", result.message)
        return result
    code = ctypes.get_errno() or errno.ENOMEM
    why = os.strerror(code)
    mapped = mapped_bytes() if mapped is None else mapped
    if code == errno.ENOMEM and not unlimited:
        sizes = f"the process maps {_mb(mapped)}, " if mapped else ""
        detail = f"{sizes}RLIMIT_MEMLOCK is {_mb(limit)}"
    else:
        detail = "mlockall refused"
    result = MemoryLock(
        False,
        False,
        f"memory not locked ({why}: {detail}): the audio path may page out under memory "
        f"pressure and cause xruns; set LimitMEMLOCK=infinity in the unit (as shipped) or "
        f"'ulimit -l unlimited' for a run by hand. The stage runs on.",
    )
    log.warning("%s", result.message)
    return result
