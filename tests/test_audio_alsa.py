"""The ALSA backend through a real ALSA PCM with no sound card: the `file` plugin over `null`.

The file plugin hands capture the bytes of `infile` and writes playback to `file`, byte-exact
but not paced; past the end of `infile` it returns garbage, so each test reads exactly the
file's length. xruns cannot happen there, so the xrun paths run against a scripted fake PCM
with its own clock, injected through `pcm_factory`.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from stagebox.audio import AudioDeviceError, AudioError, open_backend
from stagebox.audio.alsa import AlsaBackend, estimate_lost, request_realtime

ASOUNDRC = """\
</usr/share/alsa/alsa.conf>
pcm.stagebox_capture {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{infile}"
    format "raw"
}}
pcm.stagebox_playback {{
    type file
    slave.pcm "null"
    file "{outfile}"
    format "raw"
}}
"""

# (format, bytes per sample, significant bits)
FORMATS = [("S16_LE", 2, 16), ("S24_LE", 4, 24), ("S32_LE", 4, 32), ("S24_3LE", 3, 24)]


@pytest.fixture
def alsa_files(tmp_path, monkeypatch):
    """ALSA configured with the two test PCMs; returns (infile, outfile) paths."""
    infile, outfile = tmp_path / "capture.raw", tmp_path / "playback.raw"
    conf = tmp_path / "asound.conf"
    conf.write_text(ASOUNDRC.format(infile=infile, outfile=outfile))
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(conf))
    return infile, outfile


def _codes_to_bytes(codes: list[int], width: int) -> bytes:
    """Little-endian two's complement, the way the sound card sends them (written with
    int.to_bytes, independent of the numpy code under test)."""
    return b"".join(int(c).to_bytes(width, "little", signed=True) for c in codes)


@pytest.mark.parametrize(("fmt", "width", "bits"), FORMATS)
def test_capture_reproduces_file_as_float(alsa_files, fmt, width, bits):
    infile, _ = alsa_files
    channels, period, periods = 4, 64, 8
    rng = np.random.default_rng(bits + width)
    top = (1 << (bits - 1)) - 1
    codes = [int(c) for c in rng.integers(-top - 1, top + 1, size=channels * period * periods)]
    codes[:4] = [-top - 1, top, 0, -1]  # the extremes and the codes around zero
    raw = _codes_to_bytes(codes, width)
    if fmt == "S24_LE":
        # The top byte of a 24-in-32 container is padding: fill it with junk to prove it is
        # ignored.
        junk = bytearray(raw)
        junk[3::4] = bytes(rng.integers(0, 256, size=len(junk) // 4, dtype=np.uint8))
        raw = bytes(junk)
    infile.write_bytes(raw)

    backend = AlsaBackend(
        "stagebox_capture",
        sample_rate=48000,
        capture_channels=channels,
        format=fmt,
        period=period,
        periods=4,
    )
    with backend:
        blocks = [backend.read() for _ in range(periods)]  # exactly the file's length
    assert [b.position for b in blocks] == [i * period for i in range(periods)]
    assert all(b.lost == 0 for b in blocks) and backend.xruns == 0
    got = np.concatenate([b.samples for b in blocks])
    assert got.dtype == np.float32 and got.shape == (period * periods, channels)
    expected = (np.array(codes, dtype=np.float64) / 2.0 ** (bits - 1)).astype(np.float32)
    np.testing.assert_array_equal(got.reshape(-1), expected)
    assert got.reshape(-1)[0] == -1.0


@pytest.mark.parametrize("rate", [44100, 96000])
def test_capture_at_other_rates(alsa_files, rate):
    infile, _ = alsa_files
    codes = list(range(-512, 512))
    infile.write_bytes(_codes_to_bytes(codes, 2))
    with open_backend(
        "alsa",
        capture_device="stagebox_capture",
        sample_rate=rate,
        capture_channels=2,
        format="S16_LE",
        period=128,
        periods=2,
    ) as backend:
        blocks = [backend.read() for _ in range(4)]
    got = np.concatenate([b.samples for b in blocks]).reshape(-1)
    np.testing.assert_array_equal(got, np.array(codes, dtype=np.float32) / 32768)


@pytest.mark.parametrize(("fmt", "width", "bits"), FORMATS)
def test_playback_writes_exact_bytes(alsa_files, tmp_path, fmt, width, bits):
    infile, outfile = alsa_files
    infile.write_bytes(bytes(16 * 1024))  # capture is opened too: give it something to read
    channels, period, periods = 2, 32, 3
    rng = np.random.default_rng(bits)
    scale = 1 << (bits - 1)
    codes = rng.integers(-scale, scale, size=(5 * period, channels))
    if bits == 32:
        codes &= ~0xFF  # playback blocks are float32: 24 significant bits reach the card
    codes[0] = [-scale, scale - 1]
    floats = (codes / float(scale)).astype(np.float32)
    floats[1] = [1.5, -3.0]  # out of range: clipped to the extreme codes
    codes[1] = [scale - 1, -scale]
    backend = AlsaBackend(
        "stagebox_capture",
        "stagebox_playback",
        capture_channels=2,
        playback_channels=channels,
        format="S16_LE",
        playback_format=fmt,
        period=period,
        periods=periods,
    )
    with backend:
        for k in range(5):
            backend.write(floats[k * period : (k + 1) * period])
    prefill = bytes(width * channels * period * (periods - 1))  # primed silence
    expected = prefill + _codes_to_bytes([int(c) for c in codes.reshape(-1)], width)
    assert outfile.read_bytes() == expected


def test_missing_device_names_device_and_alsa_message(alsa_files):
    backend = AlsaBackend("stagebox_no_such_pcm", capture_channels=2)
    with pytest.raises(AudioDeviceError) as err:
        backend.open()
    text = str(err.value)
    assert "stagebox_no_such_pcm" in text and "capture" in text
    assert "No such file or directory" in text  # ALSA's own words


def test_bad_parameters_are_refused_before_opening():
    with pytest.raises(AudioError, match="sample rate 22050"):
        AlsaBackend("x", sample_rate=22050)
    with pytest.raises(AudioError, match="unknown sample format 'S20_LE'"):
        AlsaBackend("x", format="S20_LE")
    with pytest.raises(AudioError, match="period must be"):
        AlsaBackend("x", period=4)
    with pytest.raises(AudioError, match="unknown audio backend 'jack'"):
        open_backend("jack")


def test_write_without_playback_device_is_an_error(alsa_files):
    alsa_files[0].write_bytes(bytes(4096))
    with AlsaBackend("stagebox_capture", format="S16_LE", period=64) as backend:
        assert backend.playback_channels == 0
        with pytest.raises(AudioError, match="no playback device"):
            backend.write(np.zeros((64, 2), np.float32))


# -- xruns, through a scripted PCM -----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedCapture:
    """A capture PCM whose ADC runs a known signal against a fake clock.

    Each read returns the next period of the signal and advances the clock by a period.
    `overruns` maps a read number to (periods lost, how it is reported): "state" = the stream
    is found in XRUN before the read, "read" = read() returns -EPIPE, "raise" = read() raises.
    """

    XRUN = 4

    def __init__(self, signal, rate, period, clock, overruns) -> None:
        self.signal, self.rate, self.period, self.clock = signal, rate, period, clock
        self.overruns = dict(overruns)
        self.adc = 0  # samples: index of the next sample the fake hands over
        self.reads = 0

    def info(self):
        return {
            "rate": self.rate,
            "channels": self.signal.shape[1],
            "format_name": "S16_LE",
            "period_size": self.period,
        }

    def _overrun(self) -> str:
        lost_periods, how = self.overruns.pop(self.reads)
        # The ADC ran on for the lost span (plus a few samples of timestamp jitter).
        self.adc += lost_periods * self.period
        self.clock.now += (lost_periods * self.period + 3) / self.rate
        return how

    def state(self):
        if self.overruns.get(self.reads, (0, ""))[1] == "state":
            self._overrun()  # happened between reads: the stream sits in XRUN
            return self.XRUN
        return 3

    def read(self):
        if self.reads in self.overruns:
            how = self._overrun()
            self.reads += 1
            if how == "read":
                return -32, b""
            raise OSError("Broken pipe [fake]")
        self.reads += 1
        chunk = self.signal[self.adc : self.adc + self.period]
        self.adc += self.period
        self.clock.now += self.period / self.rate
        return self.period, (np.round(chunk * 32768).astype("<i2")).tobytes()

    def htimestamp(self):
        sec = int(self.clock.now)
        return sec, int(round((self.clock.now - sec) * 1e9)), 0

    def avail(self):
        return 0

    def close(self):
        pass


@pytest.mark.parametrize("how", ["state", "read", "raise"])
def test_overrun_is_counted_logged_and_position_stays_true(how, caplog):
    rate, period = 48000, 64
    rng = np.random.default_rng(7)
    signal = (rng.integers(-32768, 32768, size=(period * 40, 2)) / 32768).astype(np.float32)
    clock = FakeClock()
    cap = ScriptedCapture(signal, rate, period, clock, {5: (7, how), 12: (1, how)})
    backend = AlsaBackend(
        "fake",
        capture_channels=2,
        format="S16_LE",
        period=period,
        sample_rate=rate,
        pcm_factory=lambda *a: cap,
        clock=clock,
    )
    with caplog.at_level(logging.WARNING, logger="stagebox.audio"), backend:
        blocks = [backend.read() for _ in range(16)]
    assert backend.xruns == 2
    assert [b.lost for b in blocks if b.lost] == [7 * period, 1 * period]
    assert backend.lost_total == 8 * period
    for b in blocks:  # every block sits where the ADC really was
        np.testing.assert_array_equal(b.samples, signal[b.position : b.end])
    assert sum("overrun" in r.getMessage() for r in caplog.records) == 2
    assert any("samples" in r.getMessage() and "lost" in r.getMessage() for r in caplog.records)


def test_device_failure_is_an_error_not_an_xrun():
    class Unplugged(ScriptedCapture):
        def read(self):
            raise OSError("No such device [hw:CARD=sndrpihifiberry]")

    clock = FakeClock()
    cap = Unplugged(np.zeros((64, 2), np.float32), 48000, 64, clock, {})
    backend = AlsaBackend(
        "hw:CARD=sndrpihifiberry",
        format="S16_LE",
        period=64,
        pcm_factory=lambda *a: cap,
        clock=clock,
    )
    with backend, pytest.raises(AudioDeviceError, match="No such device"):
        backend.read()


def test_device_running_other_parameters_is_refused():
    clock = FakeClock()
    cap = ScriptedCapture(np.zeros((64, 2), np.float32), 44100, 64, clock, {})
    backend = AlsaBackend(
        "hw:1",
        format="S16_LE",
        period=64,
        sample_rate=48000,
        pcm_factory=lambda *a: cap,
        clock=clock,
    )
    with pytest.raises(AudioDeviceError, match="rate 44100 Hz instead of 48000"):
        backend.open()


class ScriptedPlayback:
    def __init__(self, period, fail_on) -> None:
        self.period, self.fail_on, self.writes, self.data = period, set(fail_on), 0, []

    def info(self):
        return {
            "rate": 48000,
            "channels": 2,
            "format_name": "S16_LE",
            "period_size": self.period,
            "buffer_size": 3 * self.period,
        }

    def state(self):
        return 3

    def write(self, data):
        self.writes += 1
        if self.writes in self.fail_on:
            self.fail_on.discard(self.writes)
            raise OSError("Broken pipe [fake]")
        self.data.append(bytes(data))
        return len(data) // 4

    def avail(self):
        return self.period

    def close(self):
        pass


def test_playback_underrun_is_counted_and_primed_again(caplog):
    period = 32
    clock = FakeClock()
    cap = ScriptedCapture(np.zeros((period * 8, 2), np.float32), 48000, period, clock, {})
    play = ScriptedPlayback(period, fail_on={4})  # writes 1-2 are the primed silence
    backend = AlsaBackend(
        "cap",
        "play",
        format="S16_LE",
        period=period,
        periods=3,
        pcm_factory=lambda kind, *a: cap if kind == "capture" else play,
        clock=clock,
    )
    ones = np.full((period, 2), 0.5, np.float32)
    with caplog.at_level(logging.WARNING, logger="stagebox.audio"), backend:
        backend.write(ones)
        backend.write(ones)  # the underrun: silence is primed again, then the block
    assert backend.xruns == 1
    silence = bytes(4 * period)
    block = (np.full(2 * period, 16384, "<i2")).tobytes()
    assert play.data == [silence, silence, block, silence, silence, block]
    assert any("underrun" in r.getMessage() for r in caplog.records)


def test_playback_position_follows_the_queue():
    """The next written frame is heard after what is queued: capture end + queued frames."""
    period = 32
    clock = FakeClock()
    cap = ScriptedCapture(np.zeros((period * 40, 2), np.float32), 48000, period, clock, {})
    play = ScriptedPlayback(period, fail_on=())  # avail() = one period free of three
    backend = AlsaBackend(
        "cap",
        "play",
        format="S16_LE",
        period=period,
        periods=3,
        pcm_factory=lambda kind, *a: cap if kind == "capture" else play,
        clock=clock,
    )
    with backend:
        for _ in range(30):
            block = backend.read()
            if block.position == 0:
                assert backend.playback_position == period + 2 * period  # primed silence
            backend.write(np.zeros((period, 2), np.float32))
            assert backend.playback_position == block.end + 2 * period


def test_estimate_lost_rounds_to_whole_periods():
    # Anchor: sample 1000 at t=10 s. New block's first sample at the ADC 0.1 s later.
    assert estimate_lost(1000, 1000, 10.0, 10.1, 48000, 256) == round(4800 / 256) * 256
    # Never less than a period: an xrun always loses something.
    assert estimate_lost(1000, 1000, 10.0, 10.0, 48000, 256) == 256


def test_request_realtime_never_raises(caplog):
    # Put back the test process's own policy after: granted (as root), SCHED_FIFO would stay
    # with this thread and every service a later test starts would inherit it (all its
    # threads real-time: a busy-waiting BLAS call in the sync scorer then starves the rest).
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        with caplog.at_level(logging.INFO, logger="stagebox.audio"):
            granted = request_realtime(10)
    finally:
        os.sched_setscheduler(0, policy, param)
    assert isinstance(granted, bool)
    assert caplog.records  # granted or refused, it is logged
    with pytest.raises(ValueError):
        request_realtime(0)


def test_the_backend_is_what_the_audio_section_says():
    """One opening from `[audio]` for the service and `doctor`: every key reaches the device,
    and doctor's capture-only checks open no playback."""
    from stagebox.audio.alsa import AlsaBackend
    from stagebox.config import config_from_dict

    cfg = config_from_dict(
        {},
        overrides={
            "audio.hat": "usb",
            "audio.capture_device": "hw:CARD=Stage,DEV=0",
            "audio.playback_device": "hw:CARD=Phones,DEV=0",
            "audio.capture_channels": 4,
            "audio.playback_channels": 2,
            "audio.sample_rate": 96000,
            "audio.period_size": 128,
            "audio.periods": 3,
        },
    )
    live = AlsaBackend.from_config(cfg.audio, realtime_priority=70)
    assert (live.capture_device, live.playback_device) == (
        "hw:CARD=Stage,DEV=0",
        "hw:CARD=Phones,DEV=0",
    )
    assert (live.sample_rate, live.capture_channels, live.playback_channels) == (96000, 4, 2)
    assert (live.period, live.periods, live.realtime_priority) == (128, 3, 70)
    quiet = AlsaBackend.from_config(cfg.audio, playback=False)
    assert quiet.playback_device is None and quiet.playback_channels == 0
    assert quiet.realtime_priority is None
