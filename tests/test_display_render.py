"""The streamer renderer, read back pixel by pixel (SDL dummy driver, off-screen surfaces).

The expected positions are computed here from the formulas in docs/display.md, independently
of stagebox.display.timing.
"""

from __future__ import annotations

import math

import display_refs
import numpy as np
import pytest

from stagebox.cues.cue import Cue
from stagebox.display.style import StreamerStyle, StyleError
from stagebox.timecode import RATE_25, RATE_2997DF, Timecode

pytest.importorskip("pygame", reason="pygame-ce is a declared test dependency")


def tc(text, rate=RATE_25):
    return Timecode.parse(text, rate)


CUE = Cue(
    "101",
    tc("01:00:10:00"),
    tc("01:00:13:05"),
    character="John",
    dialogue="Mary? Mary, are you in there?",
)
OTHER = Cue(
    "102",
    tc("01:00:19:10"),
    tc("01:00:22:00"),
    character="Mary",
    dialogue="Don't come in. I'm nearly done.",
)
LONG = Cue(
    "105",
    tc("01:00:58:00"),
    tc("01:01:03:15"),
    character="Detective Hale",
    dialogue="Mr Carter? Sorry to call so late. It's about your brother. "
    "He was seen at the harbour on Friday night, and we need to know where he went after.",
)


@pytest.fixture(scope="module")
def pg():
    from stagebox.display.renderer import import_pygame

    pg = import_pygame()
    pg.font.init()
    return pg


def snapshot(cue=CUE, mode="rehearse", recording=False, take=1, rate=RATE_25):
    return display_refs.snapshot(cue, mode, recording, take, rate)


class Frames:
    """One renderer and surface; `at(d)` renders d frames from TC-in and returns pixels."""

    def __init__(self, pg, style=None, size=(640, 360), cue=CUE, snap=None):
        from stagebox.display.renderer import StreamerRenderer

        self.pg = pg
        self.style = style or StreamerStyle()
        self.renderer = StreamerRenderer(size, self.style)
        self.surface = pg.Surface(size)
        self.cue = cue
        self.snap = snap or snapshot(cue)
        self.size = size

    def at(self, d, snap=None):
        frames = None if d is None else self.cue.tc_in.frame_count + d
        self.renderer.render(self.surface, frames, self.cue, snap or self.snap)
        return self.pg.surfarray.array3d(self.surface)  # [x, y, rgb]


def columns_of(pixels, y, colour):
    return np.flatnonzero(np.all(pixels[:, y] == colour, axis=1)).tolist()


def count_colour(pixels, colour, box=None):
    if box is not None:
        x, y, w, h = box
        pixels = pixels[x : x + w, y : y + h]
    return int(np.all(pixels == colour, axis=2).sum())


def expected_bar(d, width, length, fraction=0.0125):
    """docs/display.md: bw = max(2, round(W * bar_width)); x = round(p * (W - bw))."""
    bw = max(2, math.floor(width * fraction + 0.5))
    if d < -length or d >= 1:
        return None, bw
    p = min(1.0, (d + length) / length)
    return math.floor(p * (width - bw) + 0.5), bw


# -- the streamer -------------------------------------------------------------------------------


def test_streamer_x_to_the_pixel_at_25(pg):
    frames = Frames(pg)
    colour = frames.style.rehearse_colour
    width, height = frames.size
    ds = [-60, -50.5, -50, -49.7, -37.25, -25, -12.5, -3.01, -1, -0.4, 0, 0.5, 0.999, 1, 2]
    ds += list(np.linspace(-51, 1.2, 41))
    for d in ds:
        x, bw = expected_bar(d, width, 50)
        for y in (2, height - 2):
            found = columns_of(frames.at(d), y, colour)
            want = [] if x is None else list(range(x, x + bw))
            assert found == want, f"d={d} row {y}"


def test_streamer_x_to_the_pixel_at_2997df_1080p(pg):
    cue = Cue("7", tc("00:59:59;20", RATE_2997DF), tc("01:00:02;00", RATE_2997DF))
    style = StreamerStyle(length_seconds=3.0, bar_width=0.01)
    frames = Frames(pg, style, (1920, 1080), cue, snapshot(cue, "record", rate=RATE_2997DF))
    length = 90  # 3 s at 30 labels a second
    for d in (-90, -89.5, -61.3, -45, -7.77, -0.01, 0, 0.9):
        x, bw = expected_bar(d, 1920, length, 0.01)
        assert columns_of(frames.at(d), 3, style.record_colour) == list(range(x, x + bw)), d


def test_streamer_reaches_the_right_edge_on_the_first_frame_of_tc_in(pg):
    frames = Frames(pg)
    colour = frames.style.rehearse_colour
    pixels = frames.at(0.0)
    assert np.all(pixels[-1, :] == colour)  # the last column is the bar, top to bottom
    assert not np.any(np.all(frames.at(-0.5)[-1, :] == colour, axis=1))  # not yet there


def test_both_edges_meet_in_the_centre(pg):
    style = StreamerStyle(wipe="both")
    frames = Frames(pg, style)
    width = frames.size[0]
    colour = style.rehearse_colour
    for d in (-50, -40.5, -25, -3.3, 0, 0.7):
        _, bw = expected_bar(d, width, 50)
        p = min(1.0, (d + 50) / 50)
        left = math.floor(p * (width // 2 - bw) + 0.5)
        right = width - bw - left
        want = list(range(left, left + bw)) + list(range(right, right + bw))
        assert columns_of(frames.at(d), 2, colour) == want, d
    pixels = frames.at(0)
    assert columns_of(pixels, 2, colour) == list(range(width // 2 - 8, width // 2 + 8))


def test_flutter_blanks_the_streamer_on_alternate_last_frames(pg):
    style = StreamerStyle(flutter=True, flutter_frames=4)
    frames = Frames(pg, style)
    colour = style.rehearse_colour
    for k in range(1, 8):  # frames before TC-in
        shown = bool(columns_of(frames.at(-k + 0.3), 2, colour))
        assert shown == (not (k <= 4 and k % 2 == 0)), k
    assert columns_of(frames.at(0.3), 2, colour)


def test_colour_follows_the_mode(pg):
    frames = Frames(pg)
    d = -20
    for mode, colour in (
        ("rehearse", frames.style.rehearse_colour),
        ("record", frames.style.record_colour),
        ("safe", frames.style.safe_colour),
        ("review", frames.style.rehearse_colour),  # a take playing back: as rehearse
    ):
        x, bw = expected_bar(d, 640, 50)
        pixels = frames.at(d, snapshot(mode=mode))
        assert columns_of(pixels, 2, colour) == list(range(x, x + bw)), mode


# -- the punch ----------------------------------------------------------------------------------


@pytest.mark.parametrize("punch_frames", [1, 2, 3])
def test_punch_on_exactly_its_frames(pg, punch_frames):
    style = StreamerStyle(punch_frames=punch_frames)
    frames = Frames(pg, style)
    layout = frames.renderer.layout
    cx, cy = layout.punch_centre
    r = layout.punch_radius
    box = (cx - r, cy - r, 2 * r, 2 * r)
    area = math.pi * r * r
    colour = style.rehearse_colour
    checks = [-1.0, -0.001, 0.0, 0.5, punch_frames - 0.001, punch_frames, punch_frames + 0.5]
    for d in checks:
        lit = count_colour(frames.at(d), colour, box)
        if 0 <= math.floor(d) < punch_frames:
            assert lit >= 0.95 * area, f"punch missing at d={d}"
        else:
            assert lit < 0.5 * area, f"punch shown at d={d}"


# -- REC, text ----------------------------------------------------------------------------------


def test_rec_indicator_only_while_recording(pg):
    style = StreamerStyle()
    frames = Frames(pg, style)
    rec_box = frames.renderer.layout.rec_rect
    x, y, w, h = rec_box
    recording = frames.at(-70, snapshot(mode="record", recording=True))
    assert count_colour(recording, style.rec_colour, rec_box) > 0.4 * w * h
    idle = frames.at(-70, snapshot(mode="record", recording=False))
    assert count_colour(idle, style.rec_colour) == 0  # nowhere on screen
    again = frames.at(-69, snapshot(mode="record", recording=True))
    assert count_colour(again, style.rec_colour, rec_box) > 0.4 * w * h


def test_review_mode_says_which_take_plays_back(pg):
    style = StreamerStyle()
    frames = Frames(pg, style)
    layout = frames.renderer.layout
    header = (frames.renderer.width // 2, 0, frames.renderer.width // 2, layout.header_y + 40)
    # "REVIEW TAKE 1" in the header's top right where rehearse has "TAKE 1": wider
    rehearse = non_background(frames.at(-70, snapshot(mode="rehearse")), style, header)
    review = non_background(frames.at(-70, snapshot(mode="review")), style, header)
    left_edge = lambda mask: int(np.flatnonzero(mask.any(axis=1))[0])  # noqa: E731
    assert left_edge(review) < left_edge(rehearse) - 20


def non_background(pixels, style, box):
    x, y, w, h = box
    region = pixels[x : x + w, y : y + h]
    return ~np.all(region == style.background, axis=2)


def test_dialogue_is_drawn_and_differs_between_cues(pg):
    style = StreamerStyle()
    first = Frames(pg, style, cue=CUE)
    box = first.renderer.layout.dialogue_box
    a = first.at(None)
    second = Frames(pg, style, cue=OTHER, snap=snapshot(OTHER))
    b = second.at(None)
    assert non_background(a, style, box).sum() > 1000
    assert non_background(b, style, box).sum() > 1000
    x, y, w, h = box
    assert np.count_nonzero(np.any(a[x : x + w, y : y + h] != b[x : x + w, y : y + h], axis=2))
    # The character's name is drawn in its colour above the line.
    assert count_colour(a, style.character_colour) > 50


def test_long_dialogue_wraps_inside_the_screen(pg):
    style = StreamerStyle()
    frames = Frames(pg, style, cue=LONG, snap=snapshot(LONG))
    pixels = frames.at(None)
    x, y, w, h = frames.renderer.layout.dialogue_box
    width = frames.size[0]
    ink = non_background(pixels, style, (0, y, width, h))  # full rows of the dialogue box
    assert not ink[:x].any() and not ink[x + w :].any(), "text outside the dialogue box"
    rows = np.flatnonzero(ink.any(axis=0))
    assert rows.size
    lines = 1 + int(np.count_nonzero(np.diff(rows) > 1))
    assert lines >= 3, f"expected the long line on several screen lines, got {lines}"


def test_engineer_info_can_be_hidden(pg):
    shown = Frames(pg, StreamerStyle(show_engineer_info=True))
    hidden = Frames(pg, StreamerStyle(show_engineer_info=False))
    footer = (0, shown.renderer.layout.footer_y, 640, 360 - shown.renderer.layout.footer_y - 1)
    assert non_background(shown.at(-80), shown.style, footer).sum() > 100
    assert non_background(hidden.at(-80), hidden.style, footer).sum() == 0


# -- rhythm band --------------------------------------------------------------------------------


def test_rhythm_word_crosses_the_sync_bar_at_its_time(pg):
    cue = Cue(
        "9",
        tc("01:00:10:00"),
        tc("01:00:12:00"),
        dialogue="Sync point",
        words=(("Sync", tc("01:00:10:00")), ("point", tc("01:00:10:20"))),
    )
    style = StreamerStyle(style="rhythm")
    frames = Frames(pg, style, cue=cue, snap=snapshot(cue))
    width, height = frames.size
    # docs/display.md: band = rows 0.55 H .. +0.19 H; sync bar at round(0.22 W); words at
    # min(dialogue size, 70 % of the band) px; x = sync_x + round((offset - d) * speed W / fps).
    band_y, band_h = math.floor(0.55 * height + 0.5), math.floor(0.19 * height + 0.5)
    sync_x = math.floor(0.22 * width + 0.5)
    px = min(math.floor(0.085 * height + 0.5), band_h * 7 // 10)
    ppf = 0.4 * width / 25
    word = pg.font.Font(style.font_path, px).render("point", True, (255, 255, 255))
    bearing = int(np.flatnonzero(pg.surfarray.array_alpha(word).max(axis=1) > 0)[0])
    for lead in (3, 5, 9.5):  # "Sync" has passed the bar by then
        pixels = frames.at(20 - lead)
        x = sync_x + math.floor(lead * ppf + 0.5)
        band = pixels[:, band_y : band_y + band_h]
        text = ~np.all(band == style.band_colour, axis=2)
        right_of_bar = np.flatnonzero(text.any(axis=1)[sync_x + 8 :]) + sync_x + 8
        assert right_of_bar[0] == x + bearing, lead


# -- incremental drawing ------------------------------------------------------------------------


def test_incremental_frames_equal_full_redraws(pg):
    from stagebox.display.renderer import StreamerRenderer

    for style in (StreamerStyle(flutter=True), StreamerStyle(style="rhythm", wipe="both")):
        live = Frames(pg, style)
        steps = [
            (-80, snapshot()),
            (-50, snapshot()),
            (-20.5, snapshot(mode="record")),
            (-2, snapshot(mode="record")),
            (0, snapshot(mode="record", recording=True, take=4)),
            (1.5, snapshot(mode="record", recording=True, take=4)),
            (None, snapshot(mode="rehearse", take=5)),
            (30, snapshot(mode="safe", take=None)),
        ]
        for d, snap in steps:
            incremental = live.at(d, snap)
            fresh = pg.Surface(live.size)
            frames = None if d is None else CUE.tc_in.frame_count + d
            StreamerRenderer(live.size, style).render(fresh, frames, CUE, snap)
            assert np.array_equal(incremental, pg.surfarray.array3d(fresh)), (style.style, d)


def test_missing_font_is_a_clear_error(pg):
    from stagebox.display.renderer import StreamerRenderer

    with pytest.raises(StyleError, match=r"font_path: /nonexistent/font.ttf is not a file"):
        StreamerRenderer((640, 360), StreamerStyle(font_path="/nonexistent/font.ttf"))


def test_no_cue_and_no_timecode_still_draws(pg):
    from stagebox.display.renderer import StreamerRenderer

    style = StreamerStyle()
    surface = pg.Surface((640, 360))
    StreamerRenderer((640, 360), style).render(surface, None, None, None)
    pixels = pg.surfarray.array3d(surface)
    assert non_background(pixels, style, (0, 0, 640, 360)).sum() > 100  # "NO CUE", footer


# -- reference images ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["streamer_rehearse", "both_record_punch", "rhythm_record"])
def test_matches_reference_image(pg, name):

    path = display_refs.REF_DIR / f"{name}.png"
    reference = pg.surfarray.array3d(pg.image.load(str(path))).astype(int)
    frame = pg.surfarray.array3d(display_refs.render_scene(name)).astype(int)
    assert frame.shape == reference.shape
    diff = np.abs(frame - reference).max(axis=2)
    assert diff.mean() < 1.0, f"{name}: mean difference {diff.mean():.2f}"
    assert np.count_nonzero(diff > 48) < 0.005 * diff.size, f"{name}: too many changed pixels"


DUBBED = Cue(
    "101",
    tc("01:00:10:00"),
    tc("01:00:13:05"),
    character="Jean",
    dialogue="Marie ? Tu es là ?",
    original="Mary? Mary, are you in there?",
    language="FR",
)


def test_dubbing_line_large_and_original_small_under_it(pg):
    from dataclasses import replace

    style = StreamerStyle()
    frames = Frames(pg, style, cue=DUBBED, snap=snapshot(DUBBED))
    pixels = frames.at(None)
    x, y, w, h = frames.renderer.layout.dialogue_box
    line_h = h * 7 // 10
    # The original is drawn in the dim colour in the lower part of the box, and only there.
    lower = pixels[x : x + w, y + line_h : y + h]
    upper = pixels[x : x + w, y : y + line_h]
    assert count_colour(lower, style.dim_colour) > 50
    assert count_colour(upper, style.dim_colour) == 0
    assert count_colour(upper, style.text_colour) > 200  # the line to record, large
    # Its text is smaller: the original's ink is shorter than the line's.
    up_rows = np.flatnonzero(non_background(pixels, style, (x, y, w, line_h)).any(axis=0))
    low_rows = np.flatnonzero(
        non_background(pixels, style, (x, y + line_h, w, h - line_h)).any(axis=0)
    )
    assert 0 < np.ptp(low_rows) < np.ptp(up_rows)

    hidden = replace(style, show_original=False)
    plain = Frames(pg, hidden, cue=DUBBED, snap=snapshot(DUBBED)).at(None)
    assert count_colour(plain[x : x + w, y : y + h], style.dim_colour) == 0
