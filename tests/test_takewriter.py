"""The take writer thread: round trip, never blocking, overflow, disk full, failures, SIGKILL.

Disk trouble is injected through the `TakeDisk` seam (runs anywhere) and, where this machine
lets us mount one, on a real 1 MiB tmpfs.
"""

from __future__ import annotations

import errno
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from stagebox.takes.disk import DiskFullError, TakeDisk, TakeExistsError, marker_path
from stagebox.takes.meta import TakeMetadata
from stagebox.takes.repair import repair_takes
from stagebox.takes.space import recording_seconds_left
from stagebox.takes.writer import TakeWriter, TakeWriterError
from stagebox.timecode import RATE_25
from stagebox.wavfile import read_wav, read_wav_info

REPO = Path(__file__).resolve().parent.parent
META = TakeMetadata(project="P", scene="12", take="1", rate=RATE_25)
SR = 48000


def signal_block(start: int, frames: int, channels: int = 2) -> np.ndarray:
    """Deterministic S32 audio (24 significant bits) identified by its frame index."""
    n = np.arange(start, start + frames, dtype=np.int64)[:, None] * channels + np.arange(channels)
    return ((((n * 2654435761) % (1 << 24)) - (1 << 23)) << 8).astype(np.int32)


def expected_24(start: int, frames: int, channels: int = 2) -> np.ndarray:
    return (signal_block(start, frames, channels) >> 8) / 2**23


def feed(writer: TakeWriter, frames: int, block: int = 480, start: int = 0) -> None:
    for i in range(start, start + frames, block):
        writer.write(signal_block(i, min(block, start + frames - i)))


@pytest.fixture
def writer():
    w = TakeWriter(disk_reserve_bytes=0, queue_seconds=5.0).start()
    yield w
    if w._thread is not None:
        w.stop()


def test_round_trip_and_events(tmp_path, writer):
    path = tmp_path / "cue12_t1.wav"
    assert writer.open_take(path, SR, 2, 24, 36000 * SR, META).result(5) == path
    feed(writer, SR)
    assert writer.close_take(note="keeper", circled=True).result(5) == path
    kinds = [e.kind for e in writer.events()]
    assert kinds == ["opened", "closed"]
    status = writer.status()
    assert not status.recording and status.frames_written == SR and status.error is None
    audio = read_wav(path)
    assert audio.frames == SR and audio.header_consistent
    np.testing.assert_array_equal(audio.samples, expected_24(0, SR))
    raw = path.read_bytes()
    bext_at = raw.index(b"bext") + 8
    assert struct.unpack("<Q", raw[bext_at + 338 : bext_at + 346])[0] == 36000 * SR
    assert b"<CIRCLED>TRUE</CIRCLED>" in raw and b"<NOTE>keeper</NOTE>" in raw
    assert not marker_path(path).exists()


def test_existing_take_refused_and_writer_keeps_going(tmp_path, writer):
    path = tmp_path / "t.wav"
    path.write_bytes(b"an earlier take")
    request = writer.open_take(path, SR, 2, 24, 0, META)
    with pytest.raises(TakeExistsError, match="refusing to overwrite"):
        request.result(5)
    feed(writer, 4800)  # the engine did not look: these frames are discarded, not written
    writer.close_take().result(5)
    assert path.read_bytes() == b"an earlier take"
    events = writer.events()
    assert events[0].kind == "open_failed" and str(path) in events[0].message
    assert writer.status().discarded_frames == 4800
    ok = tmp_path / "t2.wav"
    writer.open_take(ok, SR, 2, 24, 0, META).result(5)
    feed(writer, 960)
    writer.close_take().result(5)
    assert read_wav(ok).frames == 960


class FakeFree(TakeDisk):
    def __init__(self, free: int) -> None:
        self.free = free

    def free_bytes(self, folder: str) -> int:
        return self.free


def test_disk_reserve_refuses_to_open(tmp_path):
    w = TakeWriter(disk_reserve_bytes=100_000_000, disk=FakeFree(30_000_000)).start()
    try:
        request = w.open_take(tmp_path / "t.wav", SR, 2, 24, 0, META)
        with pytest.raises(DiskFullError) as err:
            request.result(5)
        msg = str(err.value)
        assert str(tmp_path) in msg and "30.0 MB free" in msg and "100.0 MB" in msg
        assert not (tmp_path / "t.wav").exists()
    finally:
        w.stop()
    secs = recording_seconds_left(tmp_path, SR, 2, 24, 10_000_000, disk=FakeFree(30_000_000))
    assert secs == pytest.approx(20_000_000 / (SR * 2 * 3))
    assert recording_seconds_left(tmp_path, SR, 2, 24, 10**9, disk=FakeFree(5)) == 0
    st = os.statvfs(tmp_path)
    assert recording_seconds_left(tmp_path, SR, 1, 16, 0) == pytest.approx(
        st.f_bavail * st.f_frsize / (SR * 2), rel=0.01
    )


class FullDisk(TakeDisk):
    """Appends succeed until `budget` bytes in total, then ENOSPC (with a partial write)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget

    def write(self, fd: int, data: memoryview) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), self.budget)
        n = os.write(fd, data[:n])
        self.budget -= n
        return n


def test_disk_full_mid_take_closes_it_valid(tmp_path):
    disk = FullDisk(12288 + 6 * 10_001 + 4)  # header + 10001 frames + part of one
    w = TakeWriter(disk_reserve_bytes=0, disk=disk).start()
    try:
        path = tmp_path / "t.wav"
        w.open_take(path, SR, 2, 24, 0, META).result(5)
        assert read_wav_info(path).data_offset == 12288
        feed(w, SR)
        assert w.close_take(note="late note").result(5) == path
        events = w.events()
        assert [e.kind for e in events] == ["opened", "disk_full"]
        assert events[1].frames == 10_001 and "disk full" in events[1].message
        status = w.status()
        assert not status.recording and "disk full" in status.error and status.alive
        assert status.discarded_frames == SR - 10_080  # the blocks after the failing one
        audio = read_wav(path)
        assert audio.frames == 10_001 and audio.header_consistent
        np.testing.assert_array_equal(audio.samples, expected_24(0, 10_001))
        assert not marker_path(path).exists()
        # The writer keeps running: the next take (space freed) records.
        disk.budget = 10**9
        nxt = tmp_path / "t2.wav"
        w.open_take(nxt, SR, 2, 24, 0, META).result(5)
        feed(w, 4800)
        w.close_take().result(5)
        assert read_wav(nxt).frames == 4800
    finally:
        w.stop()


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); "
            "test_disk_full_mid_take_closes_it_valid covers ENOSPC through the seam"
        )
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_disk_full_on_a_real_tiny_filesystem(tiny_tmpfs):
    w = TakeWriter(disk_reserve_bytes=0).start()
    try:
        path = tiny_tmpfs / "t.wav"
        w.open_take(path, SR, 2, 24, 0, META).result(5)
        feed(w, 4 * SR)  # 288 kB/s: 4 s cannot fit in 1 MiB
        w.close_take().result(5)
        kinds = [e.kind for e in w.events()]
        assert kinds == ["opened", "disk_full"]
        audio = read_wav(path)
        assert 2 * SR < audio.frames < 4 * SR and audio.header_consistent
        np.testing.assert_array_equal(audio.samples, expected_24(0, audio.frames))
        assert not marker_path(path).exists()
    finally:
        w.stop()


class StallingDisk(TakeDisk):
    """Appends block until `release` is set: an SSD that stalls."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.stalled = threading.Event()

    def write(self, fd: int, data: memoryview) -> int:
        if not self.release.is_set():
            self.stalled.set()
            self.release.wait(30)
        return os.write(fd, data)


def test_overflow_never_blocks_and_keeps_sync(tmp_path):
    disk = StallingDisk()
    disk.release.set()  # the header goes through
    w = TakeWriter(disk_reserve_bytes=0, queue_seconds=0.1, disk=disk).start()  # 4800 frames
    try:
        path = tmp_path / "t.wav"
        w.open_take(path, SR, 2, 24, 0, META).result(5)
        disk.release.clear()
        w.write(signal_block(0, 480))
        assert disk.stalled.wait(5)  # the writer is stuck inside a write
        accepted = []
        for i in range(480, 480 * 21, 480):  # 20 more blocks = 9600 frames > 4800 queue
            accepted.append(w.write(signal_block(i, 480)))
        # Every call returned while the disk was still stalled: write() never waits on it.
        assert not disk.release.is_set()
        assert accepted[:10] == [True] * 10 and accepted[10:] == [False] * 10
        status = w.status()
        assert status.dropped_frames == 4800 and "queue full" in status.error
        overflow = [e for e in w.events() if e.kind == "overflow"]
        assert len(overflow) == 1  # one event per overflow episode, not per block
        disk.release.set()
        deadline = time.monotonic() + 5
        while w.status().queued_frames and time.monotonic() < deadline:
            time.sleep(0.005)  # the writer catches up
        assert w.write(signal_block(480 * 21, 480))  # after the stall: lands on its own sample
        w.close_take().result(5)
        audio = read_wav(path)
        assert audio.frames == 480 * 22
        np.testing.assert_array_equal(audio.samples[: 480 * 11], expected_24(0, 480 * 11))
        assert not audio.samples[480 * 11 : 480 * 21].any()  # the hole is silence
        np.testing.assert_array_equal(audio.samples[480 * 21 :], expected_24(480 * 21, 480))
    finally:
        disk.release.set()
        w.stop()


class BrokenDisk(TakeDisk):
    def write(self, fd: int, data: memoryview) -> int:
        raise RuntimeError("controller on fire")


def test_thread_failure_while_opening_is_surfaced_and_the_writer_carries_on(tmp_path):
    disk = BrokenDisk()
    w = TakeWriter(disk_reserve_bytes=0, disk=disk).start()
    try:
        request = w.open_take(tmp_path / "t.wav", SR, 2, 24, 0, META)
        later = w.close_take()
        with pytest.raises(TakeWriterError, match="controller on fire"):
            request.result(5)  # never left hanging
        with pytest.raises(TakeWriterError):
            later.result(5)
        status = w.status()
        assert status.alive and "controller on fire" in status.error
        assert [e.kind for e in w.events()] == ["writer_failed"]
        assert not (tmp_path / "t.wav").exists()  # a take without its header is removed
        # The disk is mended: the next take is recorded by the same writer.
        w._file_options["disk"] = TakeDisk()
        w.open_take(tmp_path / "t2.wav", SR, 2, 24, 0, META).result(5)
        w.write(signal_block(0, 480))
        assert w.close_take().result(5) == tmp_path / "t2.wav"
        np.testing.assert_array_equal(read_wav(tmp_path / "t2.wav").samples, expected_24(0, 480))
    finally:
        w.stop()


def test_a_writer_that_keeps_failing_stops_for_good_and_says_so(tmp_path):
    from stagebox.takes.writer import MAX_RESTARTS

    w = TakeWriter(disk_reserve_bytes=0, disk=BrokenDisk()).start()
    for n in range(MAX_RESTARTS):
        with pytest.raises(TakeWriterError):
            w.open_take(tmp_path / f"t{n}.wav", SR, 2, 24, 0, META).result(5)
    deadline = time.monotonic() + 5
    while w.status().alive and time.monotonic() < deadline:
        time.sleep(0.01)
    status = w.status()
    assert not status.alive and "failed for good" in status.error
    assert w.write(np.zeros((0, 2))) is True  # an empty block is no work
    with pytest.raises(TakeWriterError, match="controller on fire") as err:
        w.stop()
    assert isinstance(err.value.__cause__, RuntimeError)


def test_thread_failure_mid_take_closes_the_take_and_the_writer_goes_on(tmp_path):
    w = TakeWriter(disk_reserve_bytes=0).start()
    try:
        path = tmp_path / "u.wav"
        w.open_take(path, SR, 2, 24, 0, META).result(5)
        w._take.disk = BrokenDisk()  # the disk breaks under the open take
        w.write(signal_block(0, 480))
        deadline = time.monotonic() + 5
        while not w.status().error and time.monotonic() < deadline:
            time.sleep(0.01)
        status = w.status()
        assert status.alive and "controller on fire" in status.error
        assert [e.kind for e in w.events()][-1] == "writer_failed"
        closed = w.close_take()
        assert closed.result(5) == path and closed.cut_short == "take writer failed"
        assert read_wav(path).frames == 0  # the take was closed valid, not left open
        assert not marker_path(path).exists()
    finally:
        w.stop()


def test_write_without_a_take_is_a_loud_error(writer):
    with pytest.raises(TakeWriterError, match="no take open"):
        writer.write(signal_block(0, 10))


class SyncLog(TakeDisk):
    def __init__(self) -> None:
        self.size_writes: list[float] = []

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        if offset == 0:
            self.size_writes.append(time.monotonic())
        super().pwrite(fd, data, offset)


def test_header_is_rewritten_at_least_twice_a_second(tmp_path):
    disk = SyncLog()
    w = TakeWriter(disk_reserve_bytes=0, disk=disk).start()
    try:
        path = tmp_path / "t.wav"
        w.open_take(path, SR, 2, 24, 0, META).result(60)
        start = time.monotonic()
        sent = 0
        lag = []
        while time.monotonic() - start < 1.3:
            w.write(signal_block(sent, 480))
            sent += 480
            time.sleep(0.01)
            info = read_wav_info(path)  # what a crash right now would leave in the header
            lag.append(sent - info.data_size_field // 6)
        w.close_take().result(60)  # a loaded machine: the bound is the assertion below
    finally:
        w.stop()
    gaps = np.diff([start, *disk.size_writes])
    assert len(disk.size_writes) >= 4 and gaps.max() < 0.5
    assert max(lag) < SR // 2  # the header never trails the audio handed over by 0.5 s


CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from test_takewriter import META, SR, signal_block
    from stagebox.takes.writer import TakeWriter
    w = TakeWriter(disk_reserve_bytes=0).start()
    w.open_take(sys.argv[1], SR, 2, 24, 0, META).result(5)
    handed = 0
    while True:
        w.write(signal_block(handed, 480))
        handed += 480
        print(handed, flush=True)
        time.sleep(0.005)
    """
)


def test_sigkill_mid_take_then_repair_loses_under_half_a_second(tmp_path):
    path = tmp_path / "killed.wav"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        cwd=REPO,
        text=True,
    )
    handed = 0
    try:
        for line in child.stdout:
            handed = int(line)
            if handed >= SR:  # a second of audio handed to the writer
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    assert handed >= SR and marker_path(path).exists()
    assert repair_takes(tmp_path) == [path]
    audio = read_wav(path)
    assert audio.header_consistent and not marker_path(path).exists()
    assert audio.frames >= handed - SR // 2, (audio.frames, handed)
    np.testing.assert_array_equal(audio.samples, expected_24(0, audio.frames))


def test_a_note_too_long_still_closes_the_take(tmp_path, writer):
    path = tmp_path / "t.wav"
    writer.open_take(path, SR, 2, 24, 0, META).result(5)
    feed(writer, 4800)
    request = writer.close_take(note="blah " * 5000, circled=True)
    with pytest.raises(OSError, match="take closed without it"):
        request.result(5)
    assert [e.kind for e in writer.events()][-1] == "error"
    audio = read_wav(path)
    assert audio.frames == 4800 and audio.header_consistent
    assert not marker_path(path).exists()
    np.testing.assert_array_equal(audio.samples, expected_24(0, 4800))


def test_disk_watch_measures_on_its_own_thread_and_survives_a_failing_disk():
    from stagebox.takes.space import DiskWatch

    threads, values = [], [120.0, OSError("stalled"), 60.0]

    def measure():
        threads.append(threading.current_thread().name)
        value = values[min(len(threads) - 1, len(values) - 1)]
        if isinstance(value, Exception):
            raise value
        return value

    watch = DiskWatch(measure, 0.01).start()
    try:
        deadline = time.monotonic() + 5
        while len(threads) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        watch.stop()
    assert len(threads) >= 3 and set(threads) == {"stagebox-disk-watch"}
    assert watch.left == 60.0  # measured again after the failure
    calls = len(threads)
    time.sleep(0.05)
    assert len(threads) == calls  # stopped
