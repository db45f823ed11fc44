"""`stagebox sync TAKE.wav`: how closely a take follows its guide line, offline.

The guide is, in order: `--guide GUIDE.wav` (cut to the take's span by timecode when both
files carry a bext TimeReference, else taken as starting with the take), `--guide-dir DIR`
(guide BWFs cut by timecode), the take's own `<take>.guide.wav` beside it. With none of
them the answer is "cannot judge: no guide". The report goes to stdout (`--json` for a
script); `--plot OUT.png` draws the alignment for the editor.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stagebox.cli import CLIError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sync",
        help="score a take's sync against its guide line",
        description="Measure a take against its guide: the overall offset (+ = late), the "
        "worst local deviation and where, the share of the guide's speech within a video "
        "frame, and a verdict (in sync / check words at ... / out of sync / cannot judge).",
    )
    p.add_argument("take", metavar="TAKE.wav")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--guide", metavar="GUIDE.wav", help="the guide line as a WAV/BWF file")
    src.add_argument("--guide-dir", metavar="DIR", help="folder of guide BWFs (TimeReference)")
    p.add_argument(
        "--rate",
        metavar="RATE",
        help="timecode rate (default: the take's iXML SPEED): 23.976, 25, 29.97df..",
    )
    p.add_argument(
        "--channel",
        type=int,
        metavar="N",
        help="score this channel of the take (from 1; default: all mixed)",
    )
    p.add_argument(
        "--cues",
        metavar="SHEET",
        help="cue sheet with word timing, to name words (the take's iXML SCENE)",
    )
    p.add_argument(
        "--max-offset-ms",
        type=float,
        default=1000.0,
        metavar="MS",
        help="how far the alignment may wander (default 1000)",
    )
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    p.add_argument("--plot", metavar="OUT.png", help="draw the alignment as a PNG")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stagebox.sync import score_take
    from stagebox.sync.guide import GuideError, guide_for_take, scan_guide_folder
    from stagebox.takes.bwf import read_take_metadata
    from stagebox.timecode import Rate, Timecode, TimecodeError
    from stagebox.wavfile import WavError, read_wav

    take_path = Path(args.take)
    if not take_path.is_file():
        raise CLIError(f"{take_path}: no such take file")
    if not 100.0 <= args.max_offset_ms <= 5000.0:
        raise CLIError(f"--max-offset-ms {args.max_offset_ms:g} is outside 100..5000")
    try:
        audio = read_wav(take_path)
    except (WavError, OSError) as exc:
        raise CLIError(str(exc)) from None
    try:
        meta = read_take_metadata(take_path)
    except WavError:
        meta = None  # a plain WAV: no timecode, no rate
    if args.rate:
        try:
            rate = Rate.parse(args.rate)
        except TimecodeError as exc:
            raise CLIError(f"--rate: {exc}") from None
    elif meta is not None and meta.rate is not None:
        rate = meta.rate
    else:
        raise CLIError(f"{take_path}: no timecode rate in its iXML: give --rate")
    samples = audio.samples
    if args.channel is not None:
        if not 1 <= args.channel <= audio.channels:
            raise CLIError(f"--channel {args.channel}: {take_path} has {audio.channels} channel(s)")
        samples = samples[:, args.channel - 1]
    has_tc = meta is not None and "bext" in audio.chunks
    start = Timecode.from_samples(meta.time_reference, audio.sample_rate, rate) if has_tc else None

    guide = None
    try:
        if args.guide:
            guide = _named_guide(Path(args.guide), audio, meta if has_tc else None)
        elif args.guide_dir:
            files, _ = scan_guide_folder(args.guide_dir)
            if not has_tc:
                raise CLIError(
                    f"{take_path}: no bext TimeReference, so no timecode to cut "
                    "the guide folder by (use --guide)"
                )
            guide = guide_for_take(take_path, files=files, guide_folder=args.guide_dir)
        else:
            guide = guide_for_take(take_path)
    except (GuideError, WavError) as exc:
        raise CLIError(str(exc)) from None

    words = _cue_words(args.cues, meta, rate) if args.cues else ()
    report = score_take(
        samples,
        None if guide is None else guide.samples,
        audio.sample_rate,
        rate,
        start=start,
        words=words,
        max_offset_s=args.max_offset_ms / 1000,
    )
    if args.plot:
        from stagebox.sync.plot import write_plot

        try:
            write_plot(
                args.plot,
                samples,
                guide.samples if guide else samples[:0],
                audio.sample_rate,
                report,
                title=take_path.name,
            )
        except OSError as exc:
            raise CLIError(f"--plot {exc}") from None
    if args.json:
        data = {
            "take": str(take_path),
            "guide": list(guide.sources) if guide else [],
            "guide_covered": round(guide.covered, 3) if guide else 0.0,
            "start": str(start) if start else "",
            **report.to_dict(),
        }
        print(json.dumps(data))
        return 0
    print(f"take     {take_path}" + (f"  (starts {start}, {rate})" if start else f"  ({rate})"))
    if guide is None:
        print("guide    none")
    else:
        print(
            f"guide    {', '.join(guide.sources)}"
            + (f"  ({100 * guide.covered:.0f}% covered)" if guide.covered < 1 else "")
        )
        for note in guide.notes:
            print(f"         note: {note}")
    print(f"verdict  {report.message}")
    if report.judged:
        print(
            f"score    {100 * report.score:.0f}% of {report.speech_s:.2f} s of speech within "
            f"+-1 frame ({report.frame_ms:.1f} ms)"
        )
        print(f"offset   {report.offset_ms:+.1f} ms ({report.offset_frames:+.2f} frames, + = late)")
        place = report.worst_timecode or f"{report.worst_at_s:.2f} s"
        word = f" {report.worst_word!r}" if report.worst_word else ""
        print(
            f"worst    {report.worst_ms:+.1f} ms ({report.worst_frames:+.2f} frames) from the "
            f"offset, at {place}{word}"
        )
    if args.plot:
        print(f"plot     {args.plot}")
    return 0


def _named_guide(path: Path, audio, meta):
    """--guide: cut by timecode when both files are stamped, else aligned at the start."""
    from stagebox.sync.guide import Guide, GuideError, GuideFile, cut_guide, read_guide_file
    from stagebox.takes.bwf import read_take_metadata
    from stagebox.wavfile import WavError, read_wav_info

    if not path.is_file():
        raise GuideError(f"{path}: no such guide file")
    try:
        info = read_wav_info(path)
    except (WavError, OSError) as exc:
        raise GuideError(str(exc)) from None
    if meta is None or "bext" not in info.chunks:
        return read_guide_file(path, audio.sample_rate, audio.frames)
    gmeta = read_take_metadata(path)
    f = GuideFile(path, info.sample_rate, gmeta.time_reference, info.frames, info.channels)
    samples, used, covered, notes = cut_guide(
        [f], meta.time_reference, audio.frames, audio.sample_rate
    )
    if covered == 0:
        reason = f" ({'; '.join(notes)})" if notes else ""
        raise GuideError(f"{path}: does not cover the take's timecode span{reason}")
    return Guide(samples, tuple(used), covered, tuple(notes))


def _cue_words(sheet_path: str, meta, rate):
    from stagebox.cues.errors import CueSheetError
    from stagebox.cues.loader import load_cue_sheet

    try:
        sheet = load_cue_sheet(sheet_path, rate)
    except (CueSheetError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    if meta is None or not meta.scene:
        raise CLIError("--cues: the take has no iXML SCENE naming its cue")
    try:
        return sheet.get(meta.scene).words
    except KeyError:
        raise CLIError(f"{sheet_path}: no cue {meta.scene!r} (the take's iXML SCENE)") from None
