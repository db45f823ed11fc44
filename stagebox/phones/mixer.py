"""The headphone mixer: one period of named mono blocks in, the actor's phones feed out.

Runs on the engine thread inside `Engine.process`, so it follows the engine's real-time rules:
no allocation in the steady state (every buffer is made once, for the longest period seen),
no locks, nothing that blocks. Live changes (a level, a matrix switch, talkback pressed, a
reload) are made between periods by the engine thread itself (the service's command queue),
so each takes effect on a period boundary; the gains then move there over `ramp_ms`, a linear
ramp from the first sample of the period on, so nothing clicks.

Sidetone is the capture block of this period written into the playback block of this
period: the mix adds no latency of its own, the actor hears themselves after the audio
interface's own capture-to-playback delay.

The sum is hard-clipped to +-1.0 full scale (float32) before it leaves: a hot sidetone or a
shouted talkback distorts at full scale, never wraps around to the opposite rail as an
integer sample would. Each clipped sample is counted (`clipped`), and the phones meter shows
0 dBFS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from stagebox.phones.matrix import SOURCES, PhonesSettings, db_to_gain
from stagebox.phones.meters import PeakMeters

OUTPUT = "phones"  # the meter of the mix as it leaves
_TALKBACK = SOURCES.index("talkback")


class PhoneMixer:
    """Mixes the named sources of one period into the phones feed, following the matrix."""

    def __init__(self, sample_rate: int, settings: PhonesSettings, period: int = 1024) -> None:
        self.sample_rate = sample_rate
        self.settings = settings
        self.talkback_live = False  # the talkback button is held (or `phones talkback on`)
        self.mode: str | None = None  # the mode the targets were worked out for
        self.clipped = 0  # samples clipped at +-1.0 since start
        self.meters = PeakMeters(sample_rate, (*SOURCES, OUTPUT))
        self._gain = np.zeros(len(SOURCES))  # linear gain of each source now
        self._target = np.zeros(len(SOURCES))  # linear gain each source is ramping to
        self._step = np.zeros(len(SOURCES))  # gain change per sample while ramping
        self._primed = False  # before the first period the gains start at their targets
        self._blocks: dict[str, np.ndarray | None] = dict.fromkeys(SOURCES)
        self._size = 0
        self._grow(period)

    # -- live changes (engine thread, between periods) ----------------------------------------

    def apply(self, settings: PhonesSettings) -> None:
        """New settings (a live change or a reload): the gains ramp to them from the next
        period; a talkback held stays live if it is still wired."""
        self.settings = settings
        self.talkback_live = self.talkback_live and settings.wired("talkback")
        self._retarget()

    def set_level(self, source: str, db: float) -> None:
        self.apply(self.settings.with_level(source, db))

    def switch(self, source: str, mode: str, on: bool) -> None:
        self.apply(self.settings.with_switch(source, mode, on))

    def set_dim(self, db: float) -> None:
        self.apply(self.settings.with_dim(db))

    def talkback(self, live: bool) -> None:
        """Talkback pressed (True) or released: ValueError if no talkback channel is wired."""
        if live and not self.settings.wired("talkback"):
            raise ValueError("no talkback wired: set phones.talkback_channel in the config")
        self.talkback_live = live
        self._retarget()

    # -- the period ---------------------------------------------------------------------------

    def taps(self, samples: np.ndarray) -> dict[str, np.ndarray | None]:
        """The sources the capture block carries (guide, sidetone, talkback), as mono blocks
        of this period (views, or the sum of the sidetone mics in a buffer of the mixer's);
        the other sources are None until the caller sets them. Valid until the next call."""
        s, blocks, n = self.settings, self._blocks, len(samples)
        if n > self._size:
            self._grow(n)
        for name in SOURCES:
            blocks[name] = None
        if s.guide_channel is not None:
            blocks["guide"] = samples[:, s.guide_channel]
        if s.talkback_channel is not None:
            blocks["talkback"] = samples[:, s.talkback_channel]
        mics = s.sidetone_channels
        if len(mics) == 1:
            blocks["sidetone"] = samples[:, mics[0]]
        elif mics:
            summed = self._sidetone[:n]
            np.copyto(summed, samples[:, mics[0]])
            for ch in mics[1:]:
                summed += samples[:, ch]
            blocks["sidetone"] = summed
        return blocks

    def scratch(self, n: int) -> np.ndarray:
        """A zeroed mono buffer of `n` samples to render a source into (the beeps), the
        mixer's own: valid until the next call."""
        if n > self._size:
            self._grow(n)
        out = self._render[:n]
        out.fill(0.0)
        return out

    def mix(self, blocks: Mapping[str, np.ndarray | None], mode: str, n: int) -> np.ndarray:
        """The phones feed for one period of `n` samples (mono float32, clipped to +-1).

        `blocks` maps source names to mono blocks of `n` samples; a source missing or None is
        silence. `mode` picks the matrix row. The result is the mixer's own buffer: copy it
        out before the next call.
        """
        if n > self._size:
            self._grow(n)
        if n == 0:
            return self._sum[:0]
        if mode != self.mode:
            self.mode = mode
            self._retarget()
        out = self._sum[:n]
        out.fill(0.0)
        work = self._work[:n]
        for i, name in enumerate(SOURCES):
            block = blocks.get(name)
            g0, g1 = self._gain[i], self._target[i]
            if block is None or (g0 == 0.0 and g1 == 0.0):
                self._gain[i] = g1  # silence: nothing to ramp from
                self.meters.silent(i)
                continue
            if g0 == g1 == 1.0:  # unity: the samples themselves (beeps stay exact)
                self.meters.mark(i, block)
                out += block
                continue
            if g0 == g1:
                np.multiply(block, g1, out=work)
            else:
                gains = self._gains[:n]
                np.multiply(self._ramp[:n], math.copysign(self._step[i], g1 - g0), out=gains)
                gains += g0
                (np.minimum if g1 > g0 else np.maximum)(gains, g1, out=gains)
                np.multiply(block, gains, out=work)
                self._gain[i] = gains[-1]
            self.meters.mark(i, work)
            out += work
        hi, lo = float(out.max()), float(out.min())
        if hi > 1.0 or lo < -1.0:
            self.clipped += int(np.count_nonzero(np.abs(out) > 1.0))
            np.clip(out, -1.0, 1.0, out=out)
        self.meters.peak(len(SOURCES), min(1.0, max(hi, -lo)))  # the output's, after the clip
        self.meters.commit(n)
        self._primed = True
        return out

    # -- reading (any thread) -----------------------------------------------------------------

    def state(self) -> dict:
        """The matrix, levels and wiring, talkback, the meters (held peaks and the highest
        since start, dBFS) and the clip count."""
        settings = self.settings
        return {
            **settings.to_dict(),
            "talkback_live": self.talkback_live,
            "mode": None if self.mode is None else str(self.mode),
            "wired": {s: settings.wired(s) for s in SOURCES},
            "meters_dbfs": self.meters.dbfs(),
            "max_dbfs": self.meters.max_dbfs(),
            "clipped": self.clipped,
        }

    def meter_view(self) -> dict:
        """What the monitor shows: each source's and the output's held peak (dBFS, None for
        silence), talkback live, and the samples clipped so far."""
        return {
            "meters_dbfs": self.meters.dbfs(),
            "talkback_live": self.talkback_live,
            "clipped": self.clipped,
        }

    def gain(self, source: str) -> float:
        """The linear gain `source` has now (after the newest period)."""
        return float(self._gain[SOURCES.index(source)])

    # -- inside -------------------------------------------------------------------------------

    def _retarget(self) -> None:
        """Work out each source's target gain for the mode, the levels and talkback."""
        s = self.settings
        dim = db_to_gain(s.talkback_dim_db) if self.talkback_live else 1.0
        ramp = max(1.0, s.ramp_ms * self.sample_rate / 1000.0)  # samples
        for i, name in enumerate(SOURCES):
            if i == _TALKBACK:
                on = self.talkback_live
            else:
                on = self.mode is not None and s.on(name, self.mode)
            target = db_to_gain(s.levels_db[name]) * (1.0 if i == _TALKBACK else dim) if on else 0.0
            self._target[i] = target
            self._step[i] = abs(target - self._gain[i]) / ramp
        if not self._primed:  # the stage starts as set: no fade-in on the first period
            self._gain[:] = self._target

    def _grow(self, n: int) -> None:
        self._size = n
        self._sum = np.zeros(n, np.float32)
        self._work = np.zeros(n, np.float32)
        self._render = np.zeros(n, np.float32)
        self._sidetone = np.zeros(n, np.float32)
        self._gains = np.zeros(n)  # float64: gain per sample of a ramp
        self._ramp = np.arange(1, n + 1, dtype=np.float64)  # 1..n: samples into the period
