"""Mutation check of the take path, clock, stage, LTC decoder and timecode parsing.

    .venv/bin/python bench/mutants.py              # every mutant, one at a time (about 10 min)
    .venv/bin/python bench/mutants.py --list       # what each mutant changes
    .venv/bin/python bench/mutants.py --only tr-offset-sign,ring-halves-swapped
    .venv/bin/python bench/mutants.py --exclude tests/test_take_path_mutants.py  # without it

Each mutant is a realistic one-token bug (a flipped sign, an off-by-one, a swapped pair of
calls, a branch lost) written by hand into a copy of the source; the tests that guard that code
are run against the copy and must fail. Killed: the tests failed. Survived: they passed, and
the suite is blind there. The score is killed/total; the target is every mutant killed.

Why hand-written and not mutmut: mutmut generates every mutant its operators can make, some
thousands over these modules (most of them in log messages and docstrings' neighbours), and
each runs the tests that cover it: hours on this machine's two shared cores, and a score that
mostly measures string literals. These are the bugs that matter on a stage: where the take's
samples and stamp come from, what reaches the disk in which order, what the clock trusts.

The copy is made once (stagebox/, tests/, pyproject.toml) in a temporary folder; every mutant
is applied to it, its tests run with that copy first on the path, and the file put back.
Before any mutant, the tests run on the unchanged copy and must pass. Kept out of the pytest
run: it is slow and it runs pytest itself. Exit status 1 if a mutant survived.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STAGE_TESTS = (
    "tests/test_take_path_mutants.py",
    "tests/test_mutation_targets.py",
    "tests/test_stage.py",
    "tests/test_clock.py",
)
PUNCH_TESTS = ("tests/test_take_path_mutants.py", "tests/test_stage.py")
DISK_TESTS = (
    "tests/test_take_path_mutants.py",
    "tests/test_bwf.py",
    "tests/test_takewriter.py",
)
LTC_TESTS = (
    "tests/test_mutation_targets.py",
    "tests/test_ltc_decoder.py",
    "tests/test_ltc_frame_build.py",
)
LTC_TIMING_TESTS = (
    "tests/test_ltc_crossings.py",
    "tests/test_ltc_decoder.py",
    "tests/test_stage.py",
)
TIMECODE_TESTS = ("tests/test_mutation_targets.py", "tests/test_timecode.py")


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # repository path
    old: str  # exact text, found once in the file
    new: str
    tests: tuple[str, ...]
    what: str  # the bug it stands for


MUTANTS = [
    # -- the take's stamp: bext TimeReference (engine) and the punch points (stage) ----------
    Mutant(
        "tr-offset-sign",
        "stagebox/engine.py",
        "sound = at - self.settings.stage.record_offset",
        "sound = at + self.settings.stage.record_offset",
        STAGE_TESTS,
        "record offset added instead of subtracted where the take's first sound was made",
    ),
    Mutant(
        "tr-offset-ignored",
        "stagebox/engine.py",
        "            sound - frame_start",
        "            at - frame_start",
        STAGE_TESTS,
        "stamp taken from the LTC at the punch sample, not from the sound there",
    ),
    Mutant(
        "tr-subframe-sign",
        "stagebox/engine.py",
        "time_reference = label.samples_since_midnight(self.settings.sample_rate) + (",
        "time_reference = label.samples_since_midnight(self.settings.sample_rate) - (",
        STAGE_TESTS,
        "the part of a frame before the first sample subtracted from the stamp",
    ),
    Mutant(
        "punch-offset-sign",
        "stagebox/stage.py",
        "punch_in=at(cue.tc_in - s.handles_before) + s.record_offset,",
        "punch_in=at(cue.tc_in - s.handles_before) - s.record_offset,",
        STAGE_TESTS,
        "punch-in moved the wrong way by the record offset",
    ),
    Mutant(
        "punch-handles-sign",
        "stagebox/stage.py",
        "punch_in=at(cue.tc_in - s.handles_before) + s.record_offset,",
        "punch_in=at(cue.tc_in + s.handles_before) + s.record_offset,",
        STAGE_TESTS,
        "handles before TC-in added after it",
    ),
    Mutant(
        "punch-out-no-offset",
        "stagebox/stage.py",
        "punch_out=at(cue.tc_out + s.handles_after) + s.record_offset,",
        "punch_out=at(cue.tc_out + s.handles_after),",
        STAGE_TESTS,
        "punch-out not moved by the record offset",
    ),
    # -- the end of a take cut by a jump ----------------------------------------------------
    Mutant(
        "wrap-until-new-frame",
        "stagebox/clock.py",
        "until = frame.start if abs(frame.start - old_end) < 0.5 * period else old_end",
        "until = frame.start",
        STAGE_TESTS,
        "a jump after a dropout ends the old timecode at the new frame (guesses lost frames)",
    ),
    Mutant(
        "wrap-stage-ignores-until",
        "stagebox/stage.py",
        "until = math.floor((ce.until if ce.until is not None else ce.sample) + 0.5)",
        "until = math.floor(ce.sample + 0.5)",
        STAGE_TESTS,
        "the stage ends a pass cut by a jump at the jump, not where the old timecode ended",
    ),
    Mutant(
        "freewheel-late",
        "stagebox/clock.py",
        "if self.state == LOCKED and late > 2.5:",
        "if self.state == LOCKED and late > 4.5:",
        STAGE_TESTS,
        "a dropout noticed two frames late",
    ),
    Mutant(
        "unlock-one-frame-late",
        "stagebox/clock.py",
        "at = run.last.end + self.freewheel_frames * self._period",
        "at = run.last.end + (self.freewheel_frames + 1) * self._period",
        STAGE_TESTS,
        "LTC lost placed a frame after the freewheel ended",
    ),
    Mutant(
        "freewheel-never-reaches-punch",
        "stagebox/stage.py",
        "        return clock.state == FREEWHEEL\n",
        "        return False\n",
        STAGE_TESTS,
        "a punch point inside a dropout is never reached while freewheeling",
    ),
    Mutant(
        "label-at-sample-unrounded",
        "stagebox/clock.py",
        "count = k0 + math.floor((sample + 0.5 - a) / b)",
        "count = k0 + math.floor((sample - a) / b)",
        STAGE_TESTS,
        "the label of a sample read from the unrounded frame start",
    ),
    # -- the pre-roll ring and the punch recorder -------------------------------------------
    Mutant(
        "ring-full-read-empty",
        "stagebox/takes/punch.py",
        "        if i < j:\n            return self._data[i:j].copy()",
        "        if i <= j:\n            return self._data[i:j].copy()",
        PUNCH_TESTS,
        "a read of the whole ring (start and end on the same slot) comes back empty",
    ),
    Mutant(
        "ring-halves-swapped",
        "stagebox/takes/punch.py",
        "return np.concatenate([self._data[i:], self._data[:j]])",
        "return np.concatenate([self._data[:j], self._data[i:]])",
        PUNCH_TESTS,
        "a read across the ring's end returns its two halves in the wrong order",
    ),
    Mutant(
        "ring-wrap-write-off-by-one",
        "stagebox/takes/punch.py",
        "first = min(n, self.capacity - i)",
        "first = min(n, self.capacity - i - 1)",
        PUNCH_TESTS,
        "a write across the ring's end leaves its last slot stale",
    ),
    Mutant(
        "ring-gap-not-silenced",
        "stagebox/takes/punch.py",
        "            self._write(np.zeros((min(position - self.end, self.capacity), "
        "self.channels)))\n"
        "            self.end = position",
        "            self.end = position",
        PUNCH_TESTS,
        "an xrun gap keeps the stale audio of the last time round the ring, not silence",
    ),
    Mutant(
        "recorder-no-holdback",
        "stagebox/takes/punch.py",
        "upto = self.ring.end - self.holdback",
        "upto = self.ring.end",
        PUNCH_TESTS,
        "audio handed to the take before a punch-out can be decided for it",
    ),
    Mutant(
        "recorder-evicts-unwritten",
        "stagebox/takes/punch.py",
        "            if evicted > self._written:",
        "            if False:",
        PUNCH_TESTS,
        "a long xrun pushes audio the take has not had out of the ring",
    ),
    Mutant(
        "recorder-gap-before-decision",
        "stagebox/takes/punch.py",
        "self._flush(upto if position == gap_start else min(upto, gap_start))",
        "self._flush(upto)",
        PUNCH_TESTS,
        "an xrun's silence handed to the take before the stage decided where the take ends",
    ),
    Mutant(
        "recorder-punch-out-past-end",
        "stagebox/takes/punch.py",
        "self._flush(min(at, self.ring.end))",
        "self._flush(min(at + 1, self.ring.end))",
        PUNCH_TESTS,
        "the take ends a sample after its punch-out",
    ),
    # -- the writer and the BWF file: what reaches the disk, in which order ------------------
    Mutant(
        "writer-no-timed-sync-when-idle",
        "stagebox/takes/writer.py",
        "self._cond.wait(wait if self._take is not None else None)",
        "self._cond.wait()",
        DISK_TESTS,
        "the header is updated only when more audio arrives (an engine stall loses it)",
    ),
    Mutant(
        "sync-patch-before-fdatasync",
        "stagebox/takes/bwf.py",
        "            self.disk.fdatasync(self._fd)\n"
        "            self._patch_sizes(whole)\n"
        "            self.disk.fdatasync(self._fd)\n"
        "        except OSError as exc:\n"
        '            raise TakeError(exc.errno, f"{self.path}: sync failed',
        "            self._patch_sizes(whole)\n"
        "            self.disk.fdatasync(self._fd)\n"
        "        except OSError as exc:\n"
        '            raise TakeError(exc.errno, f"{self.path}: sync failed',
        DISK_TESTS,
        "sizes patched before the audio they describe is durable",
    ),
    Mutant(
        "sync-patch-not-synced",
        "stagebox/takes/bwf.py",
        "            self._patch_sizes(whole)\n"
        "            self.disk.fdatasync(self._fd)\n"
        "        except OSError as exc:\n"
        '            raise TakeError(exc.errno, f"{self.path}: sync failed',
        "            self._patch_sizes(whole)\n"
        "        except OSError as exc:\n"
        '            raise TakeError(exc.errno, f"{self.path}: sync failed',
        DISK_TESTS,
        "the size patch itself never synced",
    ),
    Mutant(
        "close-patch-before-fdatasync",
        "stagebox/takes/bwf.py",
        "            self.data_bytes = whole\n            self.disk.fdatasync(fd)\n",
        "            self.data_bytes = whole\n",
        DISK_TESTS,
        "closing patches the final sizes before the last audio is durable",
    ),
    Mutant(
        "riff-size-without-pad",
        "stagebox/takes/bwf.py",
        "riff_size = data_offset - 8 + data_bytes + pad",
        "riff_size = data_offset - 8 + data_bytes",
        DISK_TESTS,
        "the RIFF size leaves out the pad byte after odd data",
    ),
    Mutant(
        "overflow-gap-lost",
        "stagebox/takes/writer.py",
        '        else:\n            self._queue.append(("gap", frames))\n',
        "        else:\n            pass\n",
        DISK_TESTS,
        "audio dropped on a full queue is not replaced by silence (the take loses sync)",
    ),
    Mutant(
        "bext-time-reference-high-word",
        "stagebox/takes/meta.py",
        "                meta.time_reference >> 32,\n",
        "                meta.time_reference >> 31,\n",
        DISK_TESTS,
        "the high word of the 64-bit TimeReference shifted by 31",
    ),
    # -- LTC decoder and timecode text ------------------------------------------------------
    Mutant(
        "crossing-interpolation-sign",
        "stagebox/ltc/crossings.py",
        "t = (first - 1 + j) + y0 / -step",
        "t = (first - 1 + j) + y0 / step",
        LTC_TIMING_TESTS,
        "a clean transition placed by interpolating the wrong way from its first sample",
    ),
    Mutant(
        "crossing-off-by-one-sample",
        "stagebox/ltc/crossings.py",
        "t = (first - 1 + j) + y0 / -step",
        "t = (first + j) + y0 / -step",
        LTC_TIMING_TESTS,
        "every clean transition (so every frame start and punch) one sample late",
    ),
    Mutant(
        "ltc-hours-to-24",
        "stagebox/ltc/framer.py",
        "_LABEL_MAX = np.array([29, 59, 59, 23])",
        "_LABEL_MAX = np.array([29, 59, 59, 24])",
        LTC_TESTS,
        "LTC labelled 24:xx accepted",
    ),
    Mutant(
        "ltc-hours-unchecked",
        "stagebox/ltc/framer.py",
        "_LABEL_MAX = np.array([29, 59, 59, 23])",
        "_LABEL_MAX = np.array([29, 59, 59, 29])",
        LTC_TESTS,
        "LTC labelled 25:00:00:00 accepted",
    ),
    Mutant(
        "ltc-label-range-dropped",
        "stagebox/ltc/framer.py",
        "        & (digits @ _LABEL_OF_DIGITS <= _LABEL_MAX).all(axis=1)  # f, s, m, h\n",
        "",
        LTC_TESTS,
        "only the BCD digits checked: hours 24 to 29 accepted",
    ),
    Mutant(
        "dot-not-drop-frame",
        "stagebox/timecode.py",
        'if sep in ";.," and not rate.drop_frame:',
        'if sep == ";" and not rate.drop_frame:',
        TIMECODE_TESTS,
        "`.` before the frames read as a non-drop label at a non-drop rate",
    ),
    Mutant(
        "dot-not-a-separator",
        "stagebox/timecode.py",
        r"(\d{1,2})([:;.,])(\d{1,2})\s*$",
        r"(\d{1,2})([:;,])(\d{1,2})\s*$",
        TIMECODE_TESTS,
        "`01:00:00.02` not read as a timecode at all",
    ),
    Mutant(
        "hours-24-label",
        "stagebox/timecode.py",
        "if not 0 <= hours <= 23:",
        "if not 0 <= hours <= 24:",
        TIMECODE_TESTS,
        "24:00:00:00 accepted as a label",
    ),
]


def copy_tree(dest: Path) -> None:
    for name in ("stagebox", "tests"):
        shutil.copytree(
            REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy2(REPO / "pyproject.toml", dest / "pyproject.toml")


def run_tests(work: Path, tests: tuple[str, ...], timeout: float) -> tuple[bool, str]:
    """(passed, last line of pytest's output) for `tests` run in the copy."""
    env = dict(os.environ, PYTHONPATH=str(work), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(
            cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout:.0f} s"
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    return done.returncode == 0, lines[-1] if lines else done.stderr.strip()[-200:]


def check_mutants() -> list[str]:
    """Problems with the list itself: each `old` must occur exactly once, each mutant compile."""
    problems = []
    for m in MUTANTS:
        text = (REPO / m.file).read_text(encoding="utf-8")
        count = text.count(m.old)
        if count != 1:
            problems.append(f"{m.name}: its text occurs {count} times in {m.file} (want 1)")
            continue
        try:
            compile(text.replace(m.old, m.new), m.file, "exec")
        except SyntaxError as exc:
            problems.append(f"{m.name}: the mutated {m.file} does not compile: {exc}")
    names = [m.name for m in MUTANTS]
    if len(set(names)) != len(names):
        problems.append("two mutants share a name")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", default="", help="comma-separated mutant names")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument(
        "--exclude",
        default="",
        help="comma-separated test files not to run (to see what the rest of the suite misses)",
    )
    args = parser.parse_args()

    if args.list:
        for m in MUTANTS:
            print(f"{m.name:32} {m.file:28} {m.what}")
        return 0
    problems = check_mutants()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    chosen = MUTANTS
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        unknown = wanted - {m.name for m in MUTANTS}
        if unknown:
            print(f"unknown mutant(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        chosen = [m for m in MUTANTS if m.name in wanted]
    excluded = {t.strip() for t in args.exclude.split(",") if t.strip()}
    chosen = [
        dataclasses.replace(m, tests=tuple(t for t in m.tests if t not in excluded)) for m in chosen
    ]

    with tempfile.TemporaryDirectory(prefix="stagebox-mutants-") as tmp:
        work = Path(tmp)
        copy_tree(work)
        suites = sorted({t for m in chosen for t in m.tests})
        t0 = time.monotonic()
        ok, last = run_tests(work, tuple(suites), args.timeout * 3)
        print(f"baseline ({len(suites)} test files): {last} [{time.monotonic() - t0:.0f} s]")
        if not ok:
            print("the tests fail without any mutant: fix that first", file=sys.stderr)
            return 2
        survivors = []
        for m in chosen:
            path = work / m.file
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(m.old, m.new), encoding="utf-8")
            t0 = time.monotonic()
            try:
                passed, last = (
                    run_tests(work, m.tests, args.timeout) if m.tests else (True, "no tests")
                )
            finally:
                path.write_text(original, encoding="utf-8")
            verdict = "SURVIVED" if passed else "killed"
            if passed:
                survivors.append(m)
            print(f"{verdict:8} {m.name:32} {time.monotonic() - t0:5.0f} s  {last}", flush=True)
    killed = len(chosen) - len(survivors)
    print(f"\nmutation score: {killed}/{len(chosen)} killed ({100 * killed / len(chosen):.0f} %)")
    for m in survivors:
        print(f"  survived: {m.name} ({m.file}): {m.what}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
