"""`stagebox streamer`: render one frame of the actor's screen to a PNG.

For checking a cue sheet's lines on screen, choosing a style, and making stills for the docs,
without a monitor: the frame is drawn by the same renderer the HDMI display uses.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stagebox.cli import CLIError
from stagebox.cli.argtypes import number, whole
from stagebox.display.style import STYLES, WIPES, StreamerStyle, StyleError
from stagebox.snapshot import ClockFit, StageSnapshot
from stagebox.timecode import Rate, Timecode, TimecodeError

SAMPLE_RATE = 48000  # Hz: only to build a clock fit for the still frame


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("streamer", help="render one streamer frame to a PNG")
    p.add_argument("--cues", required=True, metavar="CUES", help="cue sheet file")
    p.add_argument("--cue", required=True, metavar="N", help="cue number as on the sheet")
    p.add_argument("--at", required=True, metavar="TC", help="timecode of the frame, HH:MM:SS:FF")
    p.add_argument("--out", required=True, metavar="FRAME.png")
    p.add_argument("--size", default="1920x1080", metavar="WxH", help="pixels (1920x1080)")
    p.add_argument("--style", default="streamer", choices=STYLES)
    p.add_argument("--wipe", default="left", choices=WIPES, help="streamer from the left or both")
    p.add_argument("--mode", default="rehearse", choices=("rehearse", "record"))
    p.add_argument("--take", type=whole, metavar="N", help="take number to show")
    p.add_argument("--fps", metavar="RATE", help="the sheet's rate if it does not say")
    p.add_argument("--length", type=number, default=2.0, metavar="S", help="streamer seconds")
    p.add_argument("--font", metavar="TTF", help="TrueType font file")
    p.add_argument("--no-info", action="store_true", help="hide timecode and lock state")
    p.set_defaults(func=run)


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text, re.ASCII)
    if not match:
        raise CLIError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    width, height = int(match.group(1)), int(match.group(2))
    if not (64 <= width <= 8192 and 48 <= height <= 8192):
        raise CLIError(f"--size {text}: width must be 64..8192 and height 48..8192")
    return width, height


def run(args: argparse.Namespace) -> int:
    from stagebox.cues import load_cue_sheet  # CueSheetError is a ValueError

    size = parse_size(args.size)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CLIError(f"--out {out}: the frame is written as PNG; name it .png")
    if not out.parent.is_dir():
        raise CLIError(f"--out {out}: folder {out.parent} does not exist")
    rate = None
    if args.fps:
        try:
            rate = Rate.parse(args.fps)
        except TimecodeError as exc:
            raise CLIError(f"--fps: {exc}") from None
    if not Path(args.cues).is_file():
        raise CLIError(f"--cues {args.cues}: no such file")
    try:
        sheet = load_cue_sheet(args.cues, rate=rate)
    except (OSError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    try:
        cue = sheet.get(args.cue)
    except KeyError as exc:
        raise CLIError(f"--cue: {exc.args[0]}") from None
    try:
        at = Timecode.parse(args.at, sheet.rate)
    except TimecodeError as exc:
        raise CLIError(f"--at: {exc}") from None
    try:
        style = StreamerStyle(
            style=args.style,
            wipe=args.wipe,
            length_seconds=args.length,
            show_engineer_info=not args.no_info,
            **({"font_path": args.font} if args.font else {}),
        )
    except StyleError as exc:
        raise CLIError(str(exc)) from None
    if args.take is not None and args.take < 1:
        raise CLIError(f"--take {args.take}: takes are numbered from 1")

    recording = args.mode == "record" and cue.tc_in.frame_count <= at.frame_count
    recording = recording and at.frame_count < cue.tc_out.frame_count
    spf = float(sheet.rate.samples_per_frame(SAMPLE_RATE))
    snapshot = StageSnapshot(
        sample=0,
        sample_rate=SAMPLE_RATE,
        mode=args.mode,
        lock="locked",
        clock=ClockFit(0.0, at.frame_count, spf, sheet.rate),
        cue=cue,
        take=args.take,
        recording=recording,
    )
    write_frame(out, size, style, float(at.frame_count), snapshot)
    print(f"{out}: cue {cue.number} at {at}, {size[0]}x{size[1]}, {args.style}, {args.mode}")
    return 0


def write_frame(
    out: Path,
    size: tuple[int, int],
    style: StreamerStyle,
    frames: float,
    snapshot: StageSnapshot,
) -> None:
    """Render the frame at `frames` off-screen and save it as a PNG."""
    from stagebox.display.renderer import StreamerRenderer, import_pygame

    pg = import_pygame()
    try:
        renderer = StreamerRenderer(size, style)
    except StyleError as exc:
        raise CLIError(str(exc)) from None
    surface = pg.Surface(size)
    renderer.render(surface, frames, snapshot.cue, snapshot)
    try:
        pg.image.save(surface, str(out))
    except (OSError, pg.error) as exc:
        raise CLIError(f"--out {out}: cannot write: {exc}") from None
