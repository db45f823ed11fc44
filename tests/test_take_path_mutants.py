"""The take path where a mutation run found the suite blind (issue 9).

Each test here fails for a realistic one-token change of the code it names (a flipped sign, an
off-by-one, two calls swapped, a branch taken the other way); `bench/mutants.py` applies those
changes one at a time and checks that these tests catch every one:

- the bext TimeReference when handles or the record offset move the punch (engine level);
- the pre-roll ring buffer read across its wrap, and xrun gaps after the ring has wrapped;
- the writer's timed header sync while no audio arrives (an engine stall);
- `fdatasync` before the size patch, seen through a logging `TakeDisk`.
"""

from __future__ import annotations

import math
import struct
import threading
import time

import numpy as np
import pytest
from stagerun import ListSink, cue, run_feed, settings_for

from stagebox.engine import TakeNumbers
from stagebox.sim.stagefeed import StageFeed
from stagebox.takes.bwf import TakeFile, TakeFormat
from stagebox.takes.disk import TakeDisk
from stagebox.takes.meta import TakeMetadata
from stagebox.takes.punch import PunchRecorder, RingBuffer, TakeStart
from stagebox.takes.writer import TakeWriter
from stagebox.timecode import RATE_25, RATE_2997DF, RATE_23976
from stagebox.wavfile import read_wav, read_wav_info

SR = 48000


class LoggedTakes(TakeNumbers):
    """Take numbers as the engine's default, keeping what each closed take logged."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: list[dict] = []

    def take_closed(self, record: dict) -> None:
        self.closed.append(dict(record))


# -- bext TimeReference: handles and record offset ----------------------------------------------
#
# The record offset compensates converter and cable latency between the LTC and the microphone:
# with an offset of +d samples the sound of the frame that starts on sample s arrives on s + d.
# The take starts d samples after TC-in's frame (minus handles), so that its first sample is
# the sound of TC-in (minus handles): its timestamp says TC-in minus handles, whatever d is.


@pytest.mark.parametrize(
    "rate, tc_in, tc_out",
    [
        (RATE_25, "01:00:10:00", "01:00:11:00"),
        (RATE_2997DF, "00:59:59;20", "01:00:01;08"),  # fractional frames, a dropped minute
        (RATE_23976, "01:00:10:00", "01:00:11:00"),
    ],
)
@pytest.mark.parametrize("offset", [0, 17, -17, 1000, -1000])
def test_time_reference_is_tc_in_minus_handles_whatever_the_record_offset(
    rate, tc_in, tc_out, offset
):
    c = cue("6", tc_in, tc_out, rate)
    feed = StageFeed([c], passes=1, preroll=3.0)
    takes = LoggedTakes()
    settings = settings_for(feed, handles_before=5, handles_after=3, record_offset=offset)
    run = run_feed(feed, [c], settings=settings, takes=takes)
    (take, audio, _note) = run.takes[0]
    truth = feed.passes[0]
    head = c.tc_in - 5  # the first frame the take holds the sound of
    tail = c.tc_out + 3  # the frame after the last
    first = math.floor(truth.frame_starts[head - feed.loop_start] + 0.5) + offset
    stop = math.floor(truth.frame_starts[tail - feed.loop_start] + 0.5) + offset
    assert take.first_sample == first
    assert len(audio) == stop - first
    np.testing.assert_array_equal(audio[:, 0], run.audio[first:stop, feed.mic_channel])
    assert take.time_reference == head.samples_since_midnight(SR)
    # The take log says the same: TC-in of the take is the label its first sample is the sound of.
    (logged,) = takes.closed
    assert logged["time_reference"] == take.time_reference
    assert logged["tc_in"] == str(head)


@pytest.mark.parametrize("offset", [17, -700])
def test_time_reference_of_a_late_pickup_with_a_record_offset(offset):
    """LTC picked up inside the window: the take starts on the first locked sample, which is
    the sound of the timecode `offset` samples earlier: a stamp off the frame grid."""
    c = cue("9", "01:00:10:00", "01:00:12:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=0.0, postroll=1.0)
    late = cue("9", "01:00:09:12", "01:00:12:00", RATE_25)  # the sheet's TC-in is before the loop
    run = run_feed(feed, [late], settings=settings_for(feed, record_offset=offset))
    (take, audio, note) = run.takes[0]
    truth = feed.passes[0]
    first = math.floor(truth.frame_starts[0] + 0.5)  # where the LTC was picked up
    assert take.first_sample == first
    assert "late pickup" in note
    assert take.time_reference == truth.first.samples_since_midnight(SR) - offset


# -- the ring buffer across its wrap ------------------------------------------------------------


def test_ring_reads_across_its_wrap_with_xrun_gaps_after_it_has_wrapped():
    """A reference model: every sample pushed (gaps as silence) against what the ring gives
    back, read in spans that straddle the physical end of the ring, after many wraps."""
    cap, channels = 1000, 2
    ring = RingBuffer(cap, channels)
    rng = np.random.default_rng(9)
    truth = np.zeros((0, channels), np.float32)
    position = 0
    # Block lengths and gaps chosen so that blocks and gaps straddle the ring's end, a gap
    # longer than the ring, and a block longer than the ring.
    plan = [(300, 0), (500, 0), (400, 0), (350, 120), (90, 0), (610, 0), (200, 450)]
    plan += [(70, 1500), (30, 0), (1200, 0), (333, 17), (5, 0)]
    plan += [(int(rng.integers(1, 400)), int(rng.integers(0, 3)) * 97) for _ in range(60)]
    for n, gap in plan:
        position += gap
        block = rng.standard_normal((n, channels)).astype(np.float32)
        truth = np.concatenate([truth, np.zeros((gap, channels), np.float32), block])
        ring.push(block, position)
        position += n
        assert ring.end == position == len(truth)
        assert ring.start == max(0, position - cap)
        # The whole ring, and spans that cross the wrap point (index a multiple of `cap`).
        spans = [(ring.start, ring.end)]
        wrap = (ring.end // cap) * cap
        if ring.start < wrap < ring.end:
            spans += [(wrap - 1, wrap + 1), (ring.start, wrap + 1), (wrap - 5, ring.end)]
        for a, b in spans:
            np.testing.assert_array_equal(ring.read(a, b), truth[a:b], err_msg=f"{a}..{b}")
        for _ in range(5):
            a = int(rng.integers(ring.start, ring.end + 1))
            b = int(rng.integers(a, ring.end + 1))
            np.testing.assert_array_equal(ring.read(a, b), truth[a:b], err_msg=f"{a}..{b}")
    with pytest.raises(IndexError):
        ring.read(ring.start - 1, ring.end)
    with pytest.raises(IndexError):
        ring.read(ring.start, ring.end + 1)


@pytest.mark.parametrize("after", [[64] * 30, [2500]])  # samples: blocks after the xrun
@pytest.mark.parametrize("gap", [1, 250, 899, 1500, 5000])
def test_a_take_through_an_xrun_after_the_ring_has_wrapped(gap, after):
    """The take holds every captured sample and silence for the xrun's lost ones, each on its
    own sample. Gaps of up to the ring less its holdback keep all audio in the ring; longer
    ones (the stream stalled for longer than the pre-roll) push audio not yet written out of
    the ring, which the recorder must hand to the take first, not lose or crash on; so does
    a block longer than the ring."""
    cap, holdback = 1000, 100
    sink = ListSink()
    rec = PunchRecorder(sink, 1, ring=cap, holdback=holdback)
    source = (np.arange(20000, dtype=np.float32) + 1)[:, None]  # never 0: silence stands out
    captured = np.zeros_like(source)
    position = 0
    for n in [64] * 40:  # 2560 samples: the ring has wrapped twice
        rec.push(source[position : position + n], position)
        captured[position : position + n] = source[position : position + n]
        position += n
    assert rec.punch_in(TakeStart("a.wav", "1", 1, 2300, 0)) == ""
    for n in [64] * 5:
        rec.push(source[position : position + n], position)
        captured[position : position + n] = source[position : position + n]
        position += n
    position += gap  # an xrun: these samples were never captured
    for n in after:
        rec.push(source[position : position + n], position)
        captured[position : position + n] = source[position : position + n]
        position += n
    out = position - 60  # within the holdback: not yet handed to the take
    length = rec.punch_out(out)
    (take, audio, _note) = sink.takes[0]
    assert take.first_sample == 2300 and length == len(audio) == out - 2300
    np.testing.assert_array_equal(audio, captured[2300:out])


# -- the writer: timed header sync with no audio, and the order of syncs ----------------------


class LoggingDisk(TakeDisk):
    """The real file-system calls, each logged in order with the time it was made."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []  # (name, time, details...)
        self._lock = threading.Lock()

    def _log(self, *entry) -> None:
        with self._lock:
            self.calls.append((entry[0], time.monotonic(), *entry[1:]))

    def write(self, fd: int, data: memoryview) -> int:
        n = super().write(fd, data)
        self._log("write", n)
        return n

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        super().pwrite(fd, data, offset)
        self._log("pwrite", offset, bytes(data))

    def fdatasync(self, fd: int) -> None:
        super().fdatasync(fd)
        self._log("fdatasync")

    def ftruncate(self, fd: int, size: int) -> None:
        super().ftruncate(fd, size)
        self._log("ftruncate", size)

    def close(self, fd: int) -> None:
        super().close(fd)
        self._log("close")


def check_header_never_claims_undurable_audio(calls: list[tuple], data_offset: int) -> int:
    """Replay the logged calls: every size the header is patched to must describe bytes
    already made durable by an fdatasync, and every patch must itself be synced before the
    next audio is appended or the file closed. Returns how many size patches were made."""
    end = 0  # bytes: where the file ends
    durable = 0  # bytes: the file's end at the last fdatasync
    unsynced_patch = False
    patches = 0
    for call in calls:
        name = call[0]
        if name == "write":
            assert not unsynced_patch, "audio appended before the size patch was synced"
            end += call[2]
        elif name == "ftruncate":
            end = call[2]
        elif name == "fdatasync":
            durable = end
            unsynced_patch = False
        elif name == "pwrite":
            offset, data = call[2], call[3]
            if offset == data_offset - 4:  # the data chunk's size
                (claimed,) = struct.unpack("<I", data)
                assert data_offset + claimed <= durable, (
                    f"header claims {claimed} audio bytes, only {durable - data_offset} durable"
                )
                patches += 1
            if offset == 0:  # the RIFF size
                (riff,) = struct.unpack("<I", data[4:8])
                assert riff + 8 <= durable + 1, f"RIFF claims {riff + 8} bytes, {durable} durable"
            unsynced_patch = True
        elif name == "close":
            assert not unsynced_patch, "file closed with a size patch not synced"
    return patches


def size_patches(disk: LoggingDisk) -> int:
    """How many times the data size has been patched so far (a 4-byte pwrite)."""
    with disk._lock:
        return sum(1 for c in disk.calls if c[0] == "pwrite" and len(c[3]) == 4)


def data_offset_of(path) -> int:
    return read_wav_info(path).data_offset


def test_take_file_syncs_audio_before_it_patches_the_sizes(tmp_path):
    disk = LoggingDisk()
    path = tmp_path / "order.wav"
    take = TakeFile(path, TakeFormat(SR, 2, 24), TakeMetadata(rate=RATE_25), disk=disk)
    rng = np.random.default_rng(1)
    for _ in range(3):
        take.write(rng.uniform(-0.5, 0.5, (4801, 2)))
        take.sync()
    take.write(rng.uniform(-0.5, 0.5, (123, 2)))  # closed with audio not yet synced
    take.close()
    patches = check_header_never_claims_undurable_audio(disk.calls, data_offset_of(path))
    assert patches == 4  # three timed syncs and the close
    assert read_wav_info(path).frames == 3 * 4801 + 123


def test_writer_syncs_audio_before_it_patches_the_sizes(tmp_path):
    disk = LoggingDisk()
    w = TakeWriter(disk_reserve_bytes=0, sync_interval=0.05, disk=disk).start()
    path = tmp_path / "order.wav"
    try:
        w.open_take(path, SR, 2, 24, 0, TakeMetadata(rate=RATE_25)).result(5)
        for i in range(4):
            w.write(np.full((2400, 2), (i + 1) / 20, np.float32))
            if i < 3:  # wait for the timed sync of this block (a loaded machine may be slow)
                deadline = time.monotonic() + 5.0
                while size_patches(disk) < i + 1 and time.monotonic() < deadline:
                    time.sleep(0.005)
        w.close_take().result(5)  # the last block: synced by the close
    finally:
        w.stop()
    patches = check_header_never_claims_undurable_audio(disk.calls, data_offset_of(path))
    assert patches >= 4  # three timed syncs while recording, and the close
    assert read_wav_info(path).frames == 4 * 2400


def test_writer_updates_the_header_while_no_audio_arrives(tmp_path):
    """An engine stall: one block handed over, then nothing. Within the sync interval the
    header on disk must describe that block (a crash now would otherwise lose it), though
    the queue stays empty and no further write wakes the writer."""
    disk = LoggingDisk()
    interval = 0.1  # seconds
    w = TakeWriter(disk_reserve_bytes=0, sync_interval=interval, disk=disk).start()
    path = tmp_path / "stall.wav"
    try:
        w.open_take(path, SR, 1, 24, 0, TakeMetadata(rate=RATE_25)).result(5)
        w.write(np.full((4800, 1), 0.25, np.float32))
        handed = time.monotonic()
        deadline = handed + 5.0  # generous: a loaded machine may wake the thread late
        while read_wav_info(path).data_size_field != 4800 * 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        on_disk = read_wav_info(path).data_size_field
        synced = [c[1] for c in disk.calls if c[0] == "pwrite" and c[2] != 0 and len(c[3]) == 4]
        status = w.status()
        assert status.recording and status.queued_frames == 0
        w.close_take().result(5)
    finally:
        w.stop()
    assert on_disk == 4800 * 3, "header not updated while no audio arrived"
    # The first size patch came one interval after the block, not with some later event.
    assert synced and synced[0] - handed < interval + 2.0
    assert np.allclose(read_wav(path).samples, 0.25, atol=1e-6)


def test_engine_records_through_an_xrun_longer_than_the_pre_roll_ring():
    """Two seconds of capture lost mid-take (longer than the recorder's ring): the engine
    goes on, and so does the take (the clock bridges the LTC missing in the gap, one pass one
    take): the audio before the xrun on its own samples, silence for the gap, the audio after
    it on its own samples again, to TC-out."""
    from stagebox.engine import Engine

    c = cue("4", "01:00:10:00", "01:00:14:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=2.0)
    audio = feed.render_all()
    sink = ListSink()
    events = []
    engine = Engine(
        settings_for(feed), sink=sink, cues=[c], mode="record", listeners=[events.append]
    )
    assert engine.recorder.ring.capacity < 2 * SR
    truth = feed.passes[0]
    gap_from = truth.tc_in_sample("4") + SR  # one second into the take
    gap_from -= gap_from % 256
    gap_to = gap_from + 2 * SR
    for pos in range(0, len(audio), 256):
        if gap_from <= pos < gap_to:
            continue
        lost = gap_to - gap_from if pos == gap_to else 0
        engine.process(audio[pos : pos + 256], pos, lost=lost)
    engine.close()
    [(take, recorded, note)] = sink.takes
    out = [e for e in events if e.event == "punch_out"][0]
    first = take.first_sample
    assert first == truth.tc_in_sample("4")
    assert out.sample == truth.tc_out_sample("4") and first + len(recorded) == out.sample
    assert "LTC dropout" in note and "bridged" in note
    mic = audio[:, feed.mic_channel]
    np.testing.assert_array_equal(recorded[: gap_from - first, 0], mic[first:gap_from])
    assert not recorded[gap_from - first : gap_to - first].any()  # the lost audio: silence
    np.testing.assert_array_equal(recorded[gap_to - first :, 0], mic[gap_to : out.sample])
