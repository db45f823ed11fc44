"""The live guide channel through the real service in the simulated stage: the DAW's guide
track comes in on a capture channel of the stage feed (`StageFeed(guide_channel=...)`, the
cue's line on time from its TC-in in every pass), the simulated actor says the same line, on
time on pass 1 and three frames (0.12 s at 25 fps) late on pass 2.

- the service records the guide beside each take (`<take>.guide.wav`): the take's
  TimeReference and length, and exactly the guide samples that were fed;
- each take is scored against it, and the verdict reaches `status`, the front panel (decoded
  from the sim panel's pixels), the actor's screen only with `display.show_sync`, `stagebox
  takes` and the report; the guide files are never listed as takes;
- a guide that cannot be written leaves the take whole and says so;
- kept in memory (`sync.guide_file = false`), nothing is written and the takes are scored;
- with word timing in the cue, a late word is named.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from servicerun import RunningService, StageDir, cue, feed_inputs, sim_stage, wait_for
from test_panel import shows_text

from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.log import TakeLog
from stagebox.timecode import RATE_25, Timecode
from stagebox.wavfile import read_wav, read_wav_info

CUE_101 = cue("101", "01:00:10:00", "01:00:13:00")
LATE = 0.12  # s the actor is late on pass 2: three frames at 25 fps
FEED = dict(passes=2, channels=3, guide_channel=2, same_line=True, late=(0.0, LATE))


def test_guide_file_is_the_fed_guide_sample_aligned_with_the_take(tmp_path):
    stage = StageDir(tmp_path)
    feed = stage.write_feed([CUE_101], **FEED)
    stage.write_config(
        stage__cue_sheet=str(_sheet(tmp_path)),
        stage__mode="record",
        audio__capture_channels=3,
        audio__guide_channel=feed.guide_channel + 1,
    )
    with RunningService(stage) as svc:
        svc.wait_ready()
        svc.wait_until(lambda s: not s["audio"], 30, "the feed's end")
        status = svc.wait_until(
            lambda s: s if s["sync"].startswith("T2 ") else None, 30, "take 2's sync line"
        )
        rows = list(csv.DictReader(io.StringIO(svc.cli("report").stdout)))
        takes = json.loads(svc.cli("takes", "--json").stdout)
        listing = svc.cli("takes").stdout
    # The guides are beside the takes, and nowhere in the log, the report or the list.
    names = sorted(p.name for p in stage.takes.glob("*.wav"))
    assert names == ["101_T001.guide.wav", "101_T001.wav", "101_T002.guide.wav", "101_T002.wav"]
    assert [r["file"] for r in rows] == ["101_T001.wav", "101_T002.wav"]
    assert [r["guide"] for r in rows] == ["101_T001.guide.wav", "101_T002.guide.wav"]
    assert [t["file"] for t in takes] == ["101_T001.wav", "101_T002.wav"]
    assert ".guide" not in listing
    for n, p in enumerate(feed.passes, start=1):
        take = stage.takes / f"101_T00{n}.wav"
        guide = stage.takes / f"101_T00{n}.guide.wav"
        t_info, g_info = read_wav_info(take), read_wav_info(guide)
        assert g_info.frames == t_info.frames and g_info.channels == 1
        t_meta, g_meta = read_take_metadata(take), read_take_metadata(guide)
        assert g_meta.time_reference == t_meta.time_reference
        assert (g_meta.scene, g_meta.take, g_meta.rate) == ("101", str(n), t_meta.rate)
        # Content: the feed's guide channel over the take's own samples (the punch is exact:
        # the take starts on the sample of TC-in, so the guide does too).
        first = p.tc_in_sample("101")
        fed = read_wav(stage.feed_path, channels=[2], start=first, frames=t_info.frames)
        kept = read_wav(guide)
        assert np.array_equal(kept.samples, fed.samples)
        mic = read_wav(stage.feed_path, channels=[0], start=first, frames=t_info.frames)
        assert np.array_equal(read_wav(take).samples, mic.samples)  # the take: the mic
        assert np.abs(fed.samples).max() > 0.1  # the guide speaks in the cue
    # Scored against the live guide: pass 1 said on time, pass 2 three frames late.
    assert rows[0]["sync"] == "in sync (100%, +0.0 fr)"
    assert rows[1]["sync"].startswith("out of sync") and "+3.0 fr" in rows[1]["sync"]
    assert status["sync"] == "T2 OUT OF SYNC +3f"
    assert "SYNC" in listing.splitlines()[0] and "out of sync" in listing
    # `stagebox sync TAKE.wav` finds the guide beside the take by itself.
    result = subprocess.run(
        [sys.executable, "-m", "stagebox", "sync", str(stage.takes / "101_T002.wav"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["verdict"] == "out of sync" and report["offset_frames"] == pytest.approx(3, 0.02)


def _sheet(root, dialogue: str = "Mary? Are you in there?"):
    path = root / "reel1.csv"
    path.write_text(
        f"# rate: 25\nCue,Character,TC In,TC Out,Dialogue\n101,JOHN,"
        f"{CUE_101.tc_in},{CUE_101.tc_out},{dialogue}\n"
    )
    return path


class StageInProcess:
    """The real service in this process on a stage feed object (as `stagebox demo` runs it),
    so the test can look at its simulated front panel and the display's reports."""

    def __init__(self, tmp_path, feed, **overrides) -> None:
        from stagebox.config import config_from_dict
        from stagebox.service import StageService

        values = {
            **feed_inputs(feed),
            "stage.mode": "record",
            **sim_stage(tmp_path),
            "panel.enabled": True,
            "panel.refresh_hz": 10,
            "audio.guide_channel": feed.guide_channel + 1,
        }
        values.update(overrides)
        if "stage.cue_sheet" not in values:
            values["stage.cue_sheet"] = str(_sheet(tmp_path))
        self.service = StageService(config_from_dict({}, overrides=values), feed=feed)
        self.exit: list[int] = []
        self.thread = threading.Thread(target=lambda: self.exit.append(self.service.run()))

    def __enter__(self):
        self.thread.start()
        return self.service

    def __exit__(self, *exc) -> None:
        self.service.stop()
        self.thread.join(30)
        assert self.exit == [0]


def _panel_shows(service, text: str, page: int) -> bool:
    panel = service.panel
    image = panel.device.image if panel is not None else None
    return image is not None and shows_text(image.pixels, text, 8 * page, x=0)


def test_the_score_on_the_panel_and_the_actor_screen_only_when_switched_on(tmp_path):
    from stagebox.sim.stagefeed import StageFeed

    options = dict(FEED, preroll=1.0, postroll=0.5, lead_in=0.3, tail=0.3)
    for show in (True, False):
        root = tmp_path / f"show_{show}"
        root.mkdir()
        feed = StageFeed([CUE_101], **options)
        with StageInProcess(
            root,
            feed,
            **{"display.enabled": True, "display.backend": "dummy", "display.show_sync": show},
        ) as service:
            wait_for(lambda: service.status()["sync"].startswith("T2 "), 60, "take 2 scored")
            # The front panel, decoded from its pixels: the line in place of the character.
            wait_for(lambda: _panel_shows(service, "T2 OUT OF SYNC +3F", 5), 10, "the panel")
            status = wait_for(
                lambda: (s := service.display.status()) and "TAKE" in s.take_line and s,
                30,
                "the display's take line",
            )
            if show:
                status = wait_for(
                    lambda: (s := service.display.status()) and "T2 " in s.take_line and s,
                    10,
                    "the sync on the actor's screen",
                )
                assert status.take_line == "T2 OUT OF SYNC +3f  TAKE 3"
            else:
                time.sleep(0.5)  # frames keep being drawn: still no score on the actor's screen
                assert service.display.status().take_line == "TAKE 3"
    # The monitor draws what status says.
    from stagebox.monitor.render import render

    frame = "\n".join(render(service.status(), 100, 30, colour=False))
    assert "T2 OUT OF SYNC +3f" in frame


def test_an_unwritable_guide_leaves_the_take_whole_and_warns(tmp_path, caplog):
    from stagebox.sim.stagefeed import StageFeed

    feed = StageFeed([CUE_101], **dict(FEED, passes=1, preroll=1.0, postroll=0.5, lead_in=0.3))
    takes = tmp_path / "takes"
    takes.mkdir()
    stale = takes / "101_T001.guide.wav"  # a file of the guide's name, left from another day
    stale.write_bytes(b"not today's guide")
    with caplog.at_level("WARNING"), StageInProcess(tmp_path, feed) as service:
        wait_for(lambda: service.status()["sync"].startswith("T1 "), 60, "take 1 scored")
        status = service.status()
    assert status["sync"] == "T1 CANNOT JUDGE"
    assert status["fault"] == ""  # the take was written: no record fault
    assert stale.read_bytes() == b"not today's guide"  # never overwritten
    [record] = TakeLog(takes).takes()
    assert (record.file, record.state) == ("101_T001.wav", "complete")
    p = feed.passes[0]
    assert record.frames == p.tc_out_sample("101") - p.tc_in_sample("101")
    assert read_wav_info(takes / record.file).frames == record.frames
    assert record.sync.startswith("cannot judge: guide not written")
    warned = [r.getMessage() for r in caplog.records if "guide not recorded" in r.getMessage()]
    assert len(warned) == 1 and "101_T001.guide.wav" in warned[0], warned


def test_a_guide_kept_in_memory_scores_the_takes_and_writes_nothing(tmp_path):
    from stagebox.sim.stagefeed import StageFeed

    feed = StageFeed([CUE_101], **dict(FEED, preroll=1.0, postroll=0.5, lead_in=0.3))
    with StageInProcess(tmp_path, feed, **{"sync.guide_file": False}) as service:
        wait_for(lambda: service.status()["sync"].startswith("T2 "), 60, "take 2 scored")
        status = service.status()
    assert sorted(p.name for p in (tmp_path / "takes").glob("*.wav")) == [
        "101_T001.wav",
        "101_T002.wav",
    ]
    records = TakeLog(tmp_path / "takes").takes()
    assert records[0].sync == "in sync (100%, +0.0 fr)"
    out = io.StringIO()
    TakeLog(tmp_path / "takes").report_csv(out)
    assert [r["guide"] for r in csv.DictReader(io.StringIO(out.getvalue()))] == ["", ""]
    assert status["sync"] == "T2 OUT OF SYNC +3f"


def test_a_late_word_is_named_from_the_cues_word_timing(tmp_path):
    from stagebox.sim.stagefeed import StageFeed

    # The actor keeps time for the first 1.2 s of the line, then comes in 0.12 s late.
    feed = StageFeed(
        [CUE_101],
        **dict(FEED, passes=2, preroll=1.0, postroll=0.5, lead_in=0.3, late_from=1.2),
    )
    sheet = _sheet(tmp_path, "{+0}Mary? {+15}Are {+30}you {+45}in {+60}there?")
    with StageInProcess(tmp_path, feed, **{"stage.cue_sheet": str(sheet)}) as service:
        wait_for(lambda: service.status()["sync"].startswith("T2 "), 60, "take 2 scored")
        status = service.status()
    [_, late] = TakeLog(tmp_path / "takes").takes()
    assert late.sync.startswith("check words at"), late.sync
    # "T2 CHECK WORDS @01:00:11:03 'Are'": the place where the lateness starts (1.2 s into
    # the line, 01:00:11:05) to a few frames, named by the word marked there.
    m = re.fullmatch(r"T2 CHECK WORDS @(\S+) '(\S+)'", status["sync"])
    assert m, status["sync"]
    at = Timecode.parse(m.group(1), RATE_25)
    assert abs(at.frame_count - Timecode.parse("01:00:11:05", RATE_25).frame_count) <= 3
    marks = {"01:00:10:00": "Mary?", "01:00:10:15": "Are", "01:00:11:05": "you"}
    marks.update({"01:00:11:20": "in", "01:00:12:10": "there?"})
    said = [w for tc, w in marks.items() if Timecode.parse(tc, RATE_25) <= at + 1]
    assert m.group(2) == said[-1]
    assert f"{m.group(1)} {m.group(2)!r}" in late.sync  # the log's verdict names it too


def test_reconcile_never_adopts_a_guide_file_as_a_take(tmp_path):
    from stagebox.takes.bwf import TakeFile, TakeFormat
    from stagebox.takes.meta import TakeMetadata
    from stagebox.takes.reconcile import reconcile

    meta = TakeMetadata(project="p", scene="101", take="1", rate=RATE_25)
    stamp = CUE_101.tc_in.samples_since_midnight(48000)
    for name in ("101_T001.wav", "101_T001.guide.wav"):  # a take the log lost, and its guide
        f = TakeFile(
            tmp_path / name, TakeFormat(48000, 1), meta.with_file_facts(time_reference=stamp)
        )
        f.write(np.zeros((4800, 1), dtype=np.float32))
        f.close()
    log = TakeLog(tmp_path)
    done = reconcile(log)
    assert [r.file for r in log.takes()] == ["101_T001.wav"]  # the take adopted, not the guide
    assert len(done.changes) == 1 and done.warnings == ()


def test_replay_keeps_the_guide_beside_each_take_as_the_live_stage_does(tmp_path):
    from stagebox.replay import replay

    stage = StageDir(tmp_path)
    feed = stage.write_feed([CUE_101], **FEED)
    config = tmp_path / "replay.toml"
    config.write_text('[audio]\nhat = "none"\ncapture_channels = 3\n\n[sync]\nguide_channel = 3\n')
    result = replay(stage.feed_path, cues=_sheet(tmp_path), out=tmp_path / "out", config=config)
    assert [t["file"] for t in result.takes] == ["101_T001.wav", "101_T002.wav"]
    for take, p in zip(result.takes, feed.passes, strict=True):
        path = tmp_path / "out" / take["file"]
        guide = path.with_name(path.stem + ".guide.wav")
        fed = read_wav(
            stage.feed_path, channels=[2], start=p.tc_in_sample("101"), frames=take["frames"]
        )
        assert np.array_equal(read_wav(guide).samples, fed.samples)
        assert read_take_metadata(guide).time_reference == read_take_metadata(path).time_reference


def _guide_take(tmp_path, take_opened):
    """One guide through a GuideWriter beside the take `take_opened` (a take writer's
    request for the take's opening, finished by the test): what the guide sink left."""
    from stagebox.takes.guidetrack import GuideFileSink, GuideWriter
    from stagebox.takes.punch import TakeStart

    writer = GuideWriter().start()
    sink = GuideFileSink(writer, sample_rate=48000)
    sink.take_opened = take_opened
    start = TakeStart("101_T001.wav", "101", 1, 0, 123456, rate=RATE_25)
    sink.open_take(start)
    sink.write(np.full((4800, 1), 0.25, dtype=np.float32))
    captured = sink.close_take()
    writer.stop()
    return captured, writer


def test_a_guide_follows_its_take_to_the_next_free_number(tmp_path):
    from stagebox.takes.writer import TakeRequest

    opened = TakeRequest(tmp_path / "101_T001.wav")
    opened.take = 2  # 101_T001.wav was there: the take writer moved the take to 2
    opened._finish(tmp_path / "101_T002.wav")
    captured, _ = _guide_take(tmp_path, opened)
    path = captured.wait_file(5)
    assert path == tmp_path / "101_T002.guide.wav"
    assert not (tmp_path / "101_T001.guide.wav").exists()
    meta = read_take_metadata(path)
    assert (meta.take, meta.time_reference) == ("2", 123456)
    assert np.all(read_wav(path).samples == 0.25)


def test_a_take_that_did_not_open_gets_no_guide(tmp_path):
    from stagebox.takes.guidetrack import GuideCaptureError
    from stagebox.takes.writer import TakeRequest

    opened = TakeRequest(tmp_path / "101_T001.wav")
    opened._finish(error=OSError("below the reserve"))
    captured, writer = _guide_take(tmp_path, opened)
    with pytest.raises(GuideCaptureError, match="the take did not open"):
        captured.wait_file(5)
    assert list(tmp_path.iterdir()) == []
    assert [e.kind for e in writer.events()] == []  # the take's failure, not the guide's


def test_the_stage_line_of_each_verdict():
    from stagebox.sync.score import CHECK, IN_SYNC, OUT_OF_SYNC, SyncPoint, SyncReport, cannot_judge

    frame = 40.0  # ms at 25 fps
    assert SyncReport(IN_SYNC, score=0.962, offset_ms=12.4, frame_ms=frame).stage_line == (
        "IN SYNC 96% +12ms"
    )
    late = SyncReport(OUT_OF_SYNC, score=0.0, offset_ms=120.0, offset_frames=3.0, frame_ms=frame)
    assert late.stage_line == "OUT OF SYNC +3f"
    early = SyncReport(OUT_OF_SYNC, score=0.3, offset_ms=-30.0, offset_frames=-0.75)
    assert early.stage_line == "OUT OF SYNC -30ms"  # under a frame: a frame count would say 0
    word = SyncPoint(1.2, 120.0, "01:00:12:05", "never")
    assert SyncReport(CHECK, checks=(word,), frame_ms=frame).stage_line == (
        "CHECK WORDS @01:00:12:05 'never'"
    )
    bare = SyncPoint(1.2, -80.0, "01:00:12:05")
    assert SyncReport(CHECK, checks=(bare,), frame_ms=frame).stage_line == (
        "CHECK WORDS @01:00:12:05 -2f"
    )
    assert cannot_judge("no guide").stage_line == "CANNOT JUDGE: no guide"
    assert cannot_judge("/a/long/path/guide.wav: no guide covers it").stage_line == "CANNOT JUDGE"


def test_the_sync_line_belongs_to_its_cue():
    from types import SimpleNamespace

    from stagebox.service.livesync import LiveSync

    cue_102 = cue("102", "01:00:20:00", "01:00:22:00")
    stage = SimpleNamespace(current=None, cue=CUE_101)
    view = SimpleNamespace(_sync_shown=("101", "T2 OUT OF SYNC +3f"), engine=None)
    view.engine = SimpleNamespace(stage=stage)
    assert LiveSync._stage_sync(view) == "T2 OUT OF SYNC +3f"
    stage.cue = cue_102  # the crew moved on: 101's score says nothing about 102
    assert LiveSync._stage_sync(view) == ""
    stage.current = SimpleNamespace(cue=CUE_101)  # a pass of 101 running
    assert LiveSync._stage_sync(view) == "T2 OUT OF SYNC +3f"


def test_the_take_line_draws_the_score_only_when_switched_on():
    import pygame

    from stagebox.display.renderer import StreamerRenderer
    from stagebox.display.style import StreamerStyle
    from stagebox.snapshot import StageSnapshot

    snap = StageSnapshot(
        sample=0, sample_rate=48000, cue=CUE_101, take=3, sync="T2 IN SYNC 96% +12ms"
    )
    pixels = {}
    for show in (False, True):
        renderer = StreamerRenderer((640, 360), StreamerStyle(show_sync=show))
        surface = pygame.Surface((640, 360))
        renderer.render(surface, None, CUE_101, snap)
        pixels[show] = pygame.surfarray.array3d(surface)
        assert renderer.take_line == ("T2 IN SYNC 96% +12ms  TAKE 3" if show else "TAKE 3")
    # Drawn: the screens differ under the take number (right, top), and only there.
    differ = np.argwhere((pixels[True] != pixels[False]).any(axis=2))
    assert len(differ) and differ[:, 0].min() > 320 and differ[:, 1].max() < 120
