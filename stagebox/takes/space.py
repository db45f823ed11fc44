"""Free recording time: how many seconds of takes the disk holds above its reserve, measured
on a thread of its own (`DiskWatch`) so a stalled disk never holds up the audio loop."""

from __future__ import annotations

import os
from collections.abc import Callable

from stagebox.takes.disk import OS_DISK, TakeDisk
from stagebox.worker import Worker

DEFAULT_DISK_RESERVE = 256 * 1024 * 1024  # bytes kept free: refuse to open a take below this


def recording_seconds_left(
    folder: str | os.PathLike,
    sample_rate: int,
    channels: int,
    bits: int,
    reserve_bytes: int = DEFAULT_DISK_RESERVE,
    *,
    disk: TakeDisk = OS_DISK,
) -> float:
    """Seconds of audio of this format that fit in `folder` above the reserve."""
    free = disk.free_bytes(os.fspath(folder))
    return seconds_above_reserve(free, sample_rate, channels, bits, reserve_bytes)


def seconds_above_reserve(
    free_bytes: int, sample_rate: int, channels: int, bits: int, reserve_bytes: int
) -> float:
    """Seconds of audio of this format that `free_bytes` hold above the reserve."""
    rate = sample_rate * channels * bits // 8  # bytes per second
    return max(0, free_bytes - reserve_bytes) / rate


class DiskWatch(Worker):
    """`measure()` (free recording time, say) every `interval` seconds on a thread of its
    own, its last value in `left`: a stalled disk (a USB stick, a network share) then holds
    up this thread, never the audio loop that reads `left`."""

    name = "stagebox-disk-watch"
    label = "the disk watch"

    def __init__(self, measure: Callable[[], float | None], interval: float) -> None:
        super().__init__()
        self.measure = measure
        self.interval = interval  # seconds
        self.left: float | None = None  # the last measurement (None: none yet, or it failed)

    def run(self) -> None:
        while True:
            try:
                self.left = self.measure()
            except OSError:
                self.left = None
            if self.stopping.wait(self.interval):
                return
