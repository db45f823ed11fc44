"""The review pass of `stagebox demo`: the first cue's last take played back against picture.

After the demo has recorded its takes, the simulated DAW loops the first cue twice more (a
loop wrap) and the same service, started in review mode, plays the cue's last take out of the
simulated headphones. What the simulated sound card heard is compared with the take file:
the lag at which they correlate best (0: on the sample) and whether every sample is the
take's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stagebox import events as ev


@dataclass(frozen=True)
class ReviewDemo:
    cue: str
    take: int
    file: str
    lags: tuple[int, ...]  # samples, per pass: where the take correlates best (0 = on time)
    exact: tuple[bool, ...]  # per pass: every sample heard is the take's own


def review_pass(cfg_overrides: dict, feed, folder: Path) -> ReviewDemo:
    """Run the service in review mode over `feed` (a StageFeed of one cue, several passes)
    with the demo's config (`cfg_overrides`), and measure each pass's playback."""
    from stagebox.config import config_from_dict
    from stagebox.service import StageService
    from stagebox.wavfile import read_wav

    cfg = config_from_dict({}, overrides={**cfg_overrides, "stage.mode": "review"})
    service = StageService(cfg, feed=feed, stop_at_end=True)
    cue = feed.cues[0].number
    heard: list[tuple] = []
    ends = iter(feed.passes)

    def keep(event) -> None:  # at each pass's end, what was heard through it (audio thread)
        if event.event == ev.PASS_END and event.cue == cue:
            p = next(ends, None)
            if p is not None:
                start = service.backend.playback_start
                heard.append((p, service.backend.playback()[:, 0].copy(), start))

    service.add_listener(keep)
    if service.run() != 0:
        raise RuntimeError("the simulated stage did not start for the review pass")
    from stagebox.review.choose import choose

    take = choose(cue, service.takelog.takes(cue), "last")  # what review mode chose
    samples = read_wav(folder / take.file).samples[:, 0]
    lags, exact = [], []
    for p, played, base in heard:
        at = p.tc_in_sample(take.cue) - base
        scores = {
            lag: float(np.dot(played[at + lag : at + lag + len(samples)], samples))
            for lag in range(-50, 51)
        }
        lags.append(max(scores, key=scores.get))
        exact.append(bool(np.array_equal(played[at : at + len(samples)], samples)))
    return ReviewDemo(take.cue, take.take, take.file, tuple(lags), tuple(exact))
