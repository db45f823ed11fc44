"""The takes disk: free space and sustained write speed against the stage's bitrate.

The take writer syncs (fdatasync) at least twice a second, so the speed that matters is the
speed with those syncs, sustained: an SD card or a cheap USB stick that writes 20 MB/s into
its cache can stall for a second on a sync. The doctor writes `disk_test_mb` MB in 1 MiB
blocks with an fdatasync every 0.5 s, as the writer does, and reports the sustained rate and
the longest sync, against the bitrate of the configured takes (rate x bytes x mic channels).
"""

from __future__ import annotations

import os
from pathlib import Path

from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, WARN, Result

BLOCK = 1 << 20  # bytes per write
SYNC_EVERY = 0.5  # seconds between fdatasyncs (the take writer's rhythm)
MARGIN_OK = 20.0  # sustained speed over the bitrate for a PASS
MARGIN_MIN = 4.0  # below this a take cannot keep up through stalls: FAIL
HOURS_OK = 8.0  # recording hours free for a PASS: a stage day
HOURS_MIN = 1.0  # below this: FAIL


def stage_bitrate(cfg) -> float:
    """Bytes per second the takes are written at."""
    return cfg.audio.sample_rate * cfg.takes.bit_depth // 8 * len(cfg.audio.mic_channels)


def measure_write(ctx: Context, folder: Path, total: int) -> tuple[float, float]:
    """(bytes per second sustained, longest fdatasync in seconds) for `total` bytes."""
    path = folder / f".stagebox-doctor-{os.getpid()}.tmp"
    block = os.urandom(BLOCK)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    longest = 0.0
    try:
        start = last_sync = ctx.clock()
        written = 0
        while written < total:
            os.write(fd, block)
            written += BLOCK
            now = ctx.clock()
            if now - last_sync >= SYNC_EVERY or written >= total:
                ctx.fdatasync(fd)
                after = ctx.clock()
                longest = max(longest, after - now)
                last_sync = after
        elapsed = max(ctx.clock() - start, 1e-9)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return written / elapsed, longest


def check_disk(ctx: Context) -> Result:
    folder = Path(ctx.cfg.takes.folder)
    bitrate = stage_bitrate(ctx.cfg)
    try:
        st = ctx.statvfs(str(folder))
    except OSError as exc:
        return Result(
            "takes disk",
            FAIL,
            f"{folder}: {exc.strerror or exc}",
            "mount the SSD and create the folder (systemd-tmpfiles --create, install.sh)",
        )
    free = st.f_bavail * st.f_frsize - ctx.cfg.takes.disk_reserve_mb * 2**20
    hours = max(free, 0) / bitrate / 3600
    try:
        speed, longest = measure_write(ctx, folder, ctx.disk_test_mb * 2**20)
    except OSError as exc:
        return Result(
            "takes disk",
            FAIL,
            f"{folder}: cannot write: {exc.strerror or exc}",
            "the folder must be writable by the stagebox user (install.sh sets it up)",
        )
    margin = speed / bitrate
    data = {
        "folder": str(folder),
        "free_bytes": free,
        "record_hours": round(hours, 1),
        "write_bytes_per_s": round(speed),
        "longest_sync_s": round(longest, 3),
        "bitrate_bytes_per_s": bitrate,
        "margin": round(margin, 1),
    }
    detail = (
        f"{folder}: {hours:.1f} h of takes free; writes {speed / 1e6:.1f} MB/s with "
        f"fdatasync (longest sync {longest * 1000:.0f} ms) = {margin:.0f}x the takes' "
        f"{bitrate / 1000:.0f} kB/s"
    )
    queue = ctx.cfg.takes.writer_queue_seconds
    if margin < MARGIN_MIN or hours < HOURS_MIN or longest > queue / 2:
        return Result(
            "takes disk",
            FAIL,
            detail,
            "record to a USB 3 SSD (hardware/bom.md), not the SD card; free space on it",
            data,
        )
    if margin < MARGIN_OK or hours < HOURS_OK:
        return Result(
            "takes disk",
            WARN,
            detail,
            "a stage day needs 8 h free and 20x the bitrate: collect takes, or use an SSD",
            data,
        )
    return Result("takes disk", PASS, detail, data=data)
