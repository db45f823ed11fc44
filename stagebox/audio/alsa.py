"""The ALSA backend: the HAT's capture (mics and LTC) and playback (the actor's headphones).

pyalsaaudio is imported only when a backend is opened, so the rest of stagebox runs where it
is not installed. Formats S16_LE, S24_LE, S32_LE and S24_3LE are converted to and from float32
(`stagebox.audio.pcmformat`).

xruns. pyalsaaudio 0.11 reports a capture overrun that happens during `read()` as a negative
length (-EPIPE); one that happened between reads is found by `state()` == XRUN before reading
(pyalsaaudio then re-prepares the stream silently inside `read()`, so we must look first).
A playback underrun during `write()` raises ALSAAudioError "Broken pipe". Each is counted in
`xruns`, logged as a warning, and recovered: capture restarts, playback is primed again.

Lost span. After an overrun ALSA drops the buffer and restarts capture, and the samples that
fell in between are gone. The capture position must still count them, or every later punch
would be early. We estimate the span from time: the last good read left an anchor "sample A
was at the ADC at time T" (ALSA's timestamp and the frames still waiting in the buffer); the
first good read after recovery says its first sample was at the ADC at time t1 = stamp -
(avail + frames) / rate. The lost span is (A + (t1 - T) * rate) - end of the last good block,
rounded to whole periods (at least one): the estimate is only as good as the timestamps
(tens of microseconds here, a few samples), rounding keeps blocks on period boundaries, and the
timecode clock re-locks on the LTC after the gap anyway. The time map is reset after an xrun.

Time map. With timestamps on (`set_tstamp_mode(ENABLE)`, type MONOTONIC), `htimestamp()` gives
the moment ALSA last updated the hardware pointer and the frames available then: after reading
a block that ends at sample E, sample E + avail was at the ADC at that moment. Without usable
timestamps we use `time.monotonic()` after the read and `avail()`.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from stagebox.audio import pcmformat
from stagebox.audio.base import (
    AudioBackend,
    AudioDeviceError,
    AudioError,
    CaptureBlock,
    check_playback_block,
)
from stagebox.timemap import SampleTimeMap

log = logging.getLogger("stagebox.audio")

SAMPLE_RATES = (44100, 48000, 96000)  # Hz the stage runs at
DEFAULT_PERIOD = 256  # frames: 5.3 ms at 48 kHz
DEFAULT_PERIODS = 3  # periods in the ALSA buffer
MAX_FAILED_READS = 50  # consecutive failed reads before the device is declared dead
_OFFSET_SAMPLES = 16  # playback latency measurements to take after a (re)start

# pyalsaaudio reports errors as ALSAAudioError("<strerror> [<device>]").
_XRUN_MESSAGES = ("Broken pipe", "Streams pipe error")


def request_realtime(priority: int = 70) -> bool:
    """Ask for SCHED_FIFO at `priority` (1..99) for the calling thread. True if granted.

    Call it from the audio thread. Refusal (no CAP_SYS_NICE, no rtprio limit in
    /etc/security/limits.d, not Linux) is logged and is not fatal: audio then runs at normal
    priority with more risk of xruns. The systemd unit grants it with `LimitRTPRIO=`.
    """
    if not 1 <= priority <= 99:
        raise ValueError(f"SCHED_FIFO priority must be 1..99, not {priority}")
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        log.warning(
            "audio thread stays at normal priority: SCHED_FIFO %d refused (%s)", priority, reason
        )
        return False
    log.info("audio thread runs SCHED_FIFO at priority %d", priority)
    return True


def estimate_lost(
    last_end: int,  # samples: end of the last good block
    anchor_sample: int,  # samples: a sample known to be at the ADC at anchor_time
    anchor_time: float,  # seconds, monotonic
    first_time: float,  # seconds, monotonic: when the new block's first sample was at the ADC
    sample_rate: int,
    period: int,  # frames
) -> int:
    """Samples lost in an xrun, in whole periods (at least one): see the module docstring."""
    first_index = anchor_sample + (first_time - anchor_time) * sample_rate
    periods = round((first_index - last_end) / period)
    return max(1, periods) * period


def _alsa_error_text(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def _monotonic_stamp(sec: int, nsec: int, now: float) -> float | None:
    """An ALSA htimestamp as monotonic seconds, or None if it is unset or not on the
    monotonic clock (more than half a second from `now`)."""
    stamp = sec + nsec * 1e-9
    return stamp if (sec or nsec) and abs(stamp - now) < 0.5 else None


def _is_xrun(exc: BaseException) -> bool:
    return any(m in str(exc) for m in _XRUN_MESSAGES)


class AlsaBackend(AudioBackend):
    """Capture and playback through ALSA devices (e.g. "hw:CARD=sndrpihifiberry,DEV=0").

    `playback_device=None` runs without playback (`playback_channels` becomes 0).
    `pcm_factory(kind, device, channels, rate, format, period, periods)` opens one PCM; tests
    inject fakes through it, the default opens `alsaaudio.PCM`.

    Call `open()`, `read()` and `write()` from the audio thread (`realtime_priority` asks for
    SCHED_FIFO for the thread that calls `open()`). Capture starts at the first `read()`;
    playback is primed with `prefill` periods of silence at the first `write()`, so a slow
    start-up between `open()` and the engine's first period is not an xrun.
    """

    @classmethod
    def from_config(
        cls, audio, *, playback: bool = True, realtime_priority: int | None = None
    ) -> AlsaBackend:
        """The backend `[audio]` describes (unopened); `playback=False` opens no playback
        device (`doctor`'s capture-only checks)."""
        return cls(
            capture_device=audio.capture_device,
            playback_device=audio.playback_device if playback else None,
            sample_rate=audio.sample_rate,
            capture_channels=audio.capture_channels,
            playback_channels=audio.playback_channels,
            format=audio.sample_format,
            period=audio.period_size,
            periods=audio.periods,
            realtime_priority=realtime_priority,
        )

    def __init__(
        self,
        capture_device: str = "default",
        playback_device: str | None = None,
        *,
        sample_rate: int = 48000,  # Hz
        capture_channels: int = 2,
        playback_channels: int = 2,
        format: str = "S32_LE",  # ALSA sample format name
        playback_format: str | None = None,  # default: the capture format
        period: int = DEFAULT_PERIOD,  # frames
        periods: int = DEFAULT_PERIODS,  # periods in the buffer
        prefill: int | None = None,  # periods of silence primed into playback (periods - 1)
        realtime_priority: int | None = None,  # SCHED_FIFO for the thread calling open()
        pcm_factory: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise AudioError(f"sample rate {sample_rate} Hz is not one of {SAMPLE_RATES}")
        if not 1 <= capture_channels <= 64:
            raise AudioError(f"capture channels must be 1..64, not {capture_channels}")
        if playback_device is not None and not 1 <= playback_channels <= 64:
            raise AudioError(f"playback channels must be 1..64, not {playback_channels}")
        if not 16 <= period <= 8192:
            raise AudioError(f"period must be 16..8192 frames, not {period}")
        if not 2 <= periods <= 32:
            raise AudioError(f"periods must be 2..32, not {periods}")
        try:
            self.format = pcmformat.pcm_format(format)
            self.playback_format = pcmformat.pcm_format(playback_format or format)
        except ValueError as exc:
            raise AudioError(str(exc)) from None
        self.capture_device = capture_device
        self.playback_device = playback_device
        self.sample_rate = sample_rate
        self.capture_channels = capture_channels
        self.playback_channels = playback_channels if playback_device is not None else 0
        self.period = period
        self.periods = periods
        self.prefill = periods - 1 if prefill is None else prefill
        if not 0 <= self.prefill < periods:
            raise AudioError(f"prefill must be 0..{periods - 1} periods, not {prefill}")
        self.realtime_priority = realtime_priority
        self._factory = pcm_factory
        self._clock = clock
        self.time_map = SampleTimeMap(sample_rate)
        self.xruns = 0
        self.lost_total = 0  # samples lost in all capture xruns
        self._alsa: Any = None  # the alsaaudio module, once opened with the default factory
        self._cap: Any = None
        self._play: Any = None
        self._next = 0  # samples: position of the next captured block (before any loss)
        self._anchor = (0, 0.0)  # (sample, monotonic seconds) from the last good read
        self._lost_pending = False  # an overrun happened since the last good read
        self._timestamps = False  # ALSA's htimestamp is usable (monotonic clock)
        self._written = 0  # frames written to playback since the last (re)start
        self._primed = False  # playback has its cushion of silence
        self._play_offsets: list[int] = []  # samples: capture index - playback index
        self._play_offset = 0
        self._play_buffer = period * periods  # frames in the playback buffer

    # -- opening and closing ----------------------------------------------------------------

    def open(self) -> None:
        if self._cap is not None:
            raise AudioError(f"audio device {self.capture_device!r} is already open")
        if self.realtime_priority is not None:
            request_realtime(self.realtime_priority)
        try:
            self._cap = self._open_pcm(
                "capture", self.capture_device, self.capture_channels, self.format
            )
            self._timestamps = self._enable_timestamps(self._cap)
            if self.playback_device is not None:
                self._play = self._open_pcm(
                    "playback", self.playback_device, self.playback_channels, self.playback_format
                )
                self._primed = False  # primed at the first write(), when the engine runs
        except BaseException:
            self.close()
            raise
        self._next = 0
        self._anchor = (0, self._clock())
        self._lost_pending = False
        self.time_map.reset()
        log.info(
            "audio open: capture %r %d ch, playback %r %d ch, %s, %d Hz, %d x %d frames%s",
            self.capture_device,
            self.capture_channels,
            self.playback_device,
            self.playback_channels,
            self.format.name,
            self.sample_rate,
            self.period,
            self.periods,
            "" if self._timestamps else " (no ALSA timestamps)",
        )

    def close(self) -> None:
        for attr in ("_play", "_cap"):
            pcm = getattr(self, attr)
            setattr(self, attr, None)
            if pcm is None:
                continue
            try:
                pcm.close()
            except Exception as exc:  # closing a dead device must not hide the first error
                log.warning("closing audio device: %s", _alsa_error_text(exc))

    def _open_pcm(self, kind: str, device: str, channels: int, fmt: pcmformat.PCMFormat):
        if self._factory is not None:
            pcm = self._factory(
                kind, device, channels, self.sample_rate, fmt.name, self.period, self.periods
            )
        else:
            pcm = self._open_alsaaudio(kind, device, channels, fmt)
        self._check_params(pcm, kind, device, channels, fmt)
        return pcm

    def _open_alsaaudio(self, kind: str, device: str, channels: int, fmt: pcmformat.PCMFormat):
        if self._alsa is None:
            try:
                import alsaaudio
            except ImportError as exc:
                raise AudioDeviceError(
                    f"the ALSA backend needs pyalsaaudio (pip install pyalsaaudio; it builds "
                    f"against libasound2-dev): {exc}"
                ) from None
            self._alsa = alsaaudio
        alsa = self._alsa
        try:
            return alsa.PCM(
                type=alsa.PCM_CAPTURE if kind == "capture" else alsa.PCM_PLAYBACK,
                mode=alsa.PCM_NORMAL,
                device=device,
                channels=channels,
                rate=self.sample_rate,
                format=getattr(alsa, f"PCM_FORMAT_{fmt.name}"),
                periodsize=self.period,
                periods=self.periods,
            )
        except alsa.ALSAAudioError as exc:
            raise AudioDeviceError(
                f"cannot open ALSA {kind} device {device!r} ({channels} ch, {fmt.name}, "
                f"{self.sample_rate} Hz): {_alsa_error_text(exc)}"
            ) from None

    def _check_params(self, pcm, kind: str, device: str, channels: int, fmt) -> None:
        """The device must run exactly as asked: a rate or format ALSA quietly changed would
        put every punch in the wrong place."""
        try:
            info = pcm.info()
        except Exception as exc:
            raise AudioDeviceError(
                f"ALSA {kind} device {device!r}: cannot read its parameters: "
                f"{_alsa_error_text(exc)}"
            ) from None
        wrong = []
        if info.get("rate") != self.sample_rate:
            wrong.append(f"rate {info.get('rate')} Hz instead of {self.sample_rate}")
        if info.get("channels") != channels:
            wrong.append(f"{info.get('channels')} channels instead of {channels}")
        if info.get("format_name", fmt.name) != fmt.name:
            wrong.append(f"format {info.get('format_name')} instead of {fmt.name}")
        if info.get("period_size", self.period) != self.period:
            wrong.append(f"period {info.get('period_size')} frames instead of {self.period}")
        if wrong:
            pcm.close()
            raise AudioDeviceError(
                f"ALSA {kind} device {device!r} will not run as configured: {'; '.join(wrong)} "
                f"(use a plughw: device to convert, or change the audio settings)"
            )
        if kind == "playback":
            self._play_buffer = int(info.get("buffer_size", self.period * self.periods))

    def _enable_timestamps(self, pcm) -> bool:
        """Monotonic ALSA timestamps for the time map, if the device and library offer them."""
        alsa = self._alsa
        if alsa is None or not hasattr(pcm, "set_tstamp_mode"):
            return hasattr(pcm, "htimestamp")
        try:
            pcm.set_tstamp_mode(alsa.PCM_TSTAMP_ENABLE)
            pcm.set_tstamp_type(alsa.PCM_TSTAMP_TYPE_MONOTONIC)
        except Exception as exc:
            log.info(
                "ALSA timestamps unavailable on %r (%s): using time.monotonic()",
                self.capture_device,
                _alsa_error_text(exc),
            )
            return False
        return True

    # -- capture ----------------------------------------------------------------------------

    def read(self) -> CaptureBlock:
        if self._cap is None:
            raise AudioError("read() before open()")
        data = self._read_period()
        now = self._clock()
        samples = pcmformat.decode(data, self.format, self.capture_channels)
        frames = samples.shape[0]
        stamp, avail = self._capture_stamp(now)
        lost = 0
        if self._lost_pending:
            first_time = stamp - (avail + frames) / self.sample_rate
            lost = estimate_lost(
                self._next, *self._anchor, first_time, self.sample_rate, self.period
            )
            self._lost_pending = False
            self.lost_total += lost
            self.time_map.reset()
            log.warning(
                "capture on %r resumed after an xrun: %d samples (%.1f ms) lost before sample %d",
                self.capture_device,
                lost,
                1000.0 * lost / self.sample_rate,
                self._next + lost,
            )
        position = self._next + lost
        self._next = position + frames
        self._anchor = (self._next + avail, stamp)
        self.time_map.add(self._next + avail, stamp)
        return CaptureBlock(samples, position, lost)

    def _read_period(self) -> bytes:
        """One period's bytes, recovering from overruns on the way."""
        failures = 0
        while True:
            if failures >= MAX_FAILED_READS:
                raise AudioDeviceError(
                    f"ALSA capture device {self.capture_device!r} delivered no audio in "
                    f"{failures} attempts"
                )
            if self._in_xrun(self._cap):
                self._xrun("capture overrun (found between reads)")
            try:
                n, data = self._cap.read()
            except Exception as exc:
                if not _is_xrun(exc):
                    raise AudioDeviceError(
                        f"ALSA capture from {self.capture_device!r} failed: {_alsa_error_text(exc)}"
                    ) from None
                self._xrun(f"capture overrun ({_alsa_error_text(exc)})")
                failures += 1
                continue
            if n < 0:
                self._xrun(f"capture overrun (read returned {n})")
                failures += 1
                continue
            if n == 0:
                failures += 1
                continue
            return data

    def _in_xrun(self, pcm) -> bool:
        return pcm.state() == getattr(self._alsa, "PCM_STATE_XRUN", 4)  # SND_PCM_STATE_XRUN

    def _xrun(self, what: str) -> None:
        self.xruns += 1
        self._lost_pending = True
        log.warning(
            "%s on %r at sample %d (xrun #%d)", what, self.capture_device, self._next, self.xruns
        )

    def _capture_stamp(self, now: float) -> tuple[float, int]:
        """(monotonic time, frames available then) for the time map."""
        if self._timestamps:
            sec, nsec, avail = self._cap.htimestamp()
            stamp = _monotonic_stamp(sec, nsec, now)
            if stamp is not None:
                return stamp, int(avail)
            if sec or nsec:
                stamp = sec + nsec * 1e-9
                log.warning(
                    "ALSA timestamps of %r are not on the monotonic clock (%.3f s off):"
                    " using time.monotonic()",
                    self.capture_device,
                    stamp - now,
                )
                self._timestamps = False
        return now, int(self._cap.avail())

    # -- playback ---------------------------------------------------------------------------

    @property
    def playback_position(self) -> int:
        if not self._primed:  # the first write() primes silence ahead of the block
            return self._next + self.period * self.prefill
        return self._written + self._play_offset

    def write(self, block: np.ndarray) -> None:
        if self._play is None:
            raise AudioError(
                "write() with no playback device open"
                if self.playback_device is not None
                else "write(): this ALSA backend has no playback device configured"
            )
        arr = check_playback_block(block, self.playback_channels, f"ALSA {self.playback_device!r}")
        if not self._primed:
            self._prime_playback()
        elif self._in_xrun(self._play):
            self._underrun("playback underrun (found between writes)")
        data = pcmformat.encode(arr, self.playback_format)
        try:
            self._play.write(data)
        except Exception as exc:
            if not _is_xrun(exc):
                raise AudioDeviceError(
                    f"ALSA playback to {self.playback_device!r} failed: {_alsa_error_text(exc)}"
                ) from None
            self._underrun(f"playback underrun ({_alsa_error_text(exc)})")
            self._play.write(data)
        self._written += arr.shape[0]
        self._measure_playback_offset()

    def _underrun(self, what: str) -> None:
        self.xruns += 1
        log.warning("%s on %r (xrun #%d)", what, self.playback_device, self.xruns)
        self._prime_playback()

    def _prime_playback(self) -> None:
        """Silence ahead of the first block, so one late period does not underrun."""
        self._primed = True
        self._written = 0
        self._play_offsets = []
        silence = bytes(self.playback_format.frame_bytes(self.playback_channels) * self.period)
        for _ in range(self.prefill):
            self._play.write(silence)
            self._written += self.period
        self._play_offset = self._next + self.period * self.prefill - self._written

    def _measure_playback_offset(self) -> None:
        """Capture index of the next playback frame minus its playback index; constant while
        both streams run from one clock, so it is measured a few times and then kept."""
        if len(self._play_offsets) >= _OFFSET_SAMPLES:
            return
        now = self._clock()
        stamp, avail = now, None
        if self._timestamps and hasattr(self._play, "htimestamp"):
            sec, nsec, avail = self._play.htimestamp()
            stamp = _monotonic_stamp(sec, nsec, now)
            if stamp is None:
                stamp, avail = now, None
        if avail is None:
            avail = self._play.avail()
        queued = max(0, self._play_buffer - int(avail))  # frames not yet played
        heard_at = stamp + queued / self.sample_rate
        fit = self.time_map.fit()
        capture_index = fit.to_sample(heard_at) if fit else self._next + queued
        self._play_offsets.append(round(capture_index) - self._written)
        self._play_offset = int(statistics.median(self._play_offsets))
