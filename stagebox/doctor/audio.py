"""The audio interface: open at the configured parameters, LTC on its input, and the
headphone output's latency measured through a patch cable (the beep latency trim)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from stagebox.doctor.context import Context
from stagebox.doctor.report import FAIL, PASS, SKIP, WARN, Result

OPEN_SECONDS = 1.0  # seconds of capture and playback run for the open check
LTC_LOW_DBFS = -30.0  # below this the LTC is close to the noise of a long cable
LTC_HOT_DBFS = -3.0  # above this it is clipping or leaking into the mic channel
CLICK = 48  # samples: length of the test click (1 ms at 48 kHz)
CLICK_LEVEL = 0.5  # full scale: -6 dBFS
CLICKS = 3  # clicks measured; they must agree
AGREE = 2  # samples: how far the clicks' round trips may differ


def _params(cfg) -> str:
    a = cfg.audio
    return f"{a.sample_rate} Hz {a.sample_format}, period {a.period_size} x {a.periods}"


def _run(backend, seconds: float, playback: bool = True) -> list[np.ndarray]:
    blocks = []
    silence = np.zeros((backend.period, backend.playback_channels), np.float32)
    for _ in range(max(1, int(seconds * backend.sample_rate / backend.period))):
        blocks.append(backend.read().samples)
        if playback and backend.playback_channels:
            backend.write(silence)
    return blocks


def check_audio_open(ctx: Context) -> Result:
    from stagebox.audio import AudioError

    if ctx.cfg.audio.backend != "alsa":
        return Result("audio streams", SKIP, f"audio.backend = {ctx.cfg.audio.backend!r}")
    a = ctx.cfg.audio
    if ctx.service is not None:
        status = ctx.service("status")
        if status.get("audio"):
            return Result(
                "audio streams",
                PASS,
                f"the running service captures {a.capture_device} at {_params(ctx.cfg)}",
                data={"through_service": True},
            )
        return Result(
            "audio streams",
            FAIL,
            "the service runs but its audio does not (see journalctl -u stagebox)",
            "sudo systemctl stop stagebox, then stagebox doctor shows the device's own error",
        )
    try:
        backend = ctx.open_audio(ctx.cfg)
        with backend:
            blocks = _run(backend, OPEN_SECONDS)
            xruns = backend.xruns
    except AudioError as exc:
        return Result(
            "audio streams",
            FAIL,
            f"{a.capture_device} at {_params(ctx.cfg)}: {exc}",
            "stop the service (it holds the card); `arecord -D DEVICE --dump-hw-params` "
            "shows what the card accepts",
        )
    frames = sum(b.shape[0] for b in blocks)
    data = {"frames": frames, "xruns": xruns}
    detail = (
        f"capture {a.capture_device} and playback {a.playback_device} at {_params(ctx.cfg)}: "
        f"{frames} frames, {xruns} xruns"
    )
    if xruns:
        return Result(
            "audio streams",
            WARN,
            detail,
            "raise audio.period_size or audio.periods; check nothing else loads the CPU",
            data,
        )
    return Result("audio streams", PASS, detail, data=data)


def listen_for_ltc(samples: np.ndarray, sample_rate: int) -> dict:
    """Decode LTC from one channel: frames, level, the rate measured from the frame period
    (not the configured one: the check compares them), and whether the clock locked."""
    from stagebox.clock import LOCKED, TimecodeClock
    from stagebox.ltc.decoder import LTCDecoder

    decoder = LTCDecoder(sample_rate)
    clock = TimecodeClock(sample_rate)
    frames = decoder.decode(samples.astype(np.float32), 0) + decoder.flush()
    clock.feed(frames, samples.shape[0])
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return {
        "frames": len(frames),
        "peak_dbfs": round(20 * np.log10(peak), 1) if peak > 0 else None,
        "rate": str(clock.rate) if clock.rate else None,
        "locked": clock.state == LOCKED,
        "first": frames[0].label if frames else None,
    }


def check_ltc(ctx: Context) -> Result:
    from stagebox.audio import AudioError

    a = ctx.cfg.audio
    channel = a.ltc_channel
    if ctx.service is not None:
        return _ltc_from_service(ctx)
    try:
        backend = ctx.open_audio(ctx.cfg)
        with backend:
            blocks = _run(backend, ctx.ltc_seconds)
            rate_hz = backend.sample_rate
    except AudioError as exc:
        return Result("ltc", FAIL, f"cannot capture: {exc}", "see the audio streams check")
    samples = np.concatenate(blocks)[:, channel - 1]
    found = listen_for_ltc(samples, rate_hz)
    level = found["peak_dbfs"]
    where = f"input {channel} (audio.ltc_channel)"
    if not found["frames"]:
        shown = "silence" if level is None else f"peak {level} dBFS"
        return Result(
            "ltc",
            FAIL,
            f"no LTC on {where}: {shown}, no frame decoded in {ctx.ltc_seconds:g} s",
            "play the DAW with its timecode output on, and check the LTC cable goes to "
            f"input {channel}",
            found,
        )
    detail = (
        f"{found['frames']} frames on {where} from {found['first']}, {found['rate']} fps, "
        f"peak {level} dBFS, {'locked' if found['locked'] else 'not locked'}"
    )
    configured = ctx.cfg.timecode.rate
    if configured is not None and found["rate"] and found["rate"] != str(configured):
        return Result(
            "ltc",
            FAIL,
            f"{detail}; timecode.rate is {configured}",
            "set the DAW's timecode rate to the project's, or timecode.rate",
            found,
        )
    if not found["locked"]:
        return Result("ltc", FAIL, detail, "the LTC is broken up: check level and cable", found)
    if level is not None and (level < LTC_LOW_DBFS or level > LTC_HOT_DBFS):
        side = "low" if level < LTC_LOW_DBFS else "hot"
        return Result(
            "ltc",
            WARN,
            f"{detail}: the level is {side}",
            "aim for -20 to -6 dBFS on the LTC input (hardware/wiring.md#ltc-input)",
            found,
        )
    return Result("ltc", PASS, detail, data=found)


def _ltc_from_service(ctx: Context) -> Result:
    """LTC as the running service hears it: its clock's lock and rate, the input's level."""
    status = ctx.service("status")
    channel = ctx.cfg.audio.ltc_channel
    levels = status.get("levels_dbfs") or []
    level = round(levels[channel - 1], 1) if len(levels) >= channel else None
    data = {
        "lock": status.get("lock"),
        "rate": status.get("rate"),
        "timecode": status.get("timecode"),
        "peak_dbfs": level,
        "through_service": True,
    }
    where = f"input {channel} (audio.ltc_channel)"
    if status.get("lock") != "locked":
        return Result(
            "ltc",
            FAIL,
            f"the service is not locked to LTC on {where} (lock: {status.get('lock')}, "
            f"level {level} dBFS)",
            "play the DAW with its timecode output on, and check the LTC cable goes to "
            f"input {channel}",
            data,
        )
    detail = (
        f"the service is locked on {where} at {status.get('timecode')}, {status.get('rate')} "
        f"fps, level {level} dBFS"
    )
    if level is not None and (level < LTC_LOW_DBFS or level > LTC_HOT_DBFS):
        side = "low" if level < LTC_LOW_DBFS else "hot"
        return Result(
            "ltc",
            WARN,
            f"{detail}: the level is {side}",
            "aim for -20 to -6 dBFS on the LTC input (hardware/wiring.md#ltc-input)",
            data,
        )
    return Result("ltc", PASS, detail, data=data)


def _click() -> np.ndarray:
    return (CLICK_LEVEL * np.hanning(CLICK) * np.sin(np.arange(CLICK) * np.pi / 4)).astype(
        np.float32
    )


def measure_round_trip(backend, channel: int, clicks: int = CLICKS) -> list[int]:
    """Round trips in samples of `clicks` clicks played out and found on capture `channel`.

    A click written at block offset k when the backend says the block starts at capture
    sample P is meant for sample P + k; the round trip is where it is found minus that.
    That is what the engine must add to `playback_position` when it places a beep so that
    the beep leaves the output when its LTC frame arrives at the input: the beep trim.
    """
    click = _click()
    silence = np.zeros((backend.period, backend.playback_channels), np.float32)
    rate, period = backend.sample_rate, backend.period
    trips = []
    for _ in range(clicks):
        for _ in range(int(0.2 * rate / period)):  # settle
            backend.read()
            backend.write(silence)
        backend.read()
        intended = backend.playback_position
        # the click from the first sample of the next write, over as many blocks as it needs
        blocks = -(-CLICK // period)
        out = np.zeros((blocks * period, backend.playback_channels), np.float32)
        out[:CLICK] = click[:, None]
        captured, start = [], None
        for i in range(int(0.5 * rate / period)):
            backend.write(out[i * period : (i + 1) * period] if i < blocks else silence)
            got = backend.read()
            start = got.position if start is None else start
            captured.append(got.samples[:, channel - 1])
        heard = np.concatenate(captured)
        corr = np.correlate(heard, click, mode="valid")
        best = int(np.argmax(np.abs(corr)))
        if abs(corr[best]) < 0.1 * float(np.dot(click, click)):
            raise ValueError("the click was not heard")
        trips.append(start + best - intended)
    return trips


def check_latency(ctx: Context) -> Result:
    from stagebox.audio import AudioError

    if ctx.loopback is None:
        return Result(
            "playback latency",
            SKIP,
            "needs --loopback N: a patch cable from the headphone output to input N",
        )
    if ctx.service is not None:
        return Result(
            "playback latency",
            SKIP,
            "the running service holds the sound card",
            "sudo systemctl stop stagebox, then run the loopback",
        )
    try:
        backend = ctx.open_audio(ctx.cfg)
        with backend:
            trips = measure_round_trip(backend, ctx.loopback)
    except AudioError as exc:
        return Result("playback latency", FAIL, f"cannot run audio: {exc}", "")
    except ValueError:
        return Result(
            "playback latency",
            FAIL,
            f"no click came back on input {ctx.loopback}",
            f"patch the headphone output (left) to input {ctx.loopback}, unmute both",
        )
    if max(trips) - min(trips) > AGREE:
        return Result(
            "playback latency",
            FAIL,
            f"round trips disagree: {trips} samples",
            "an unsteady clock or resampling in the path: use hw: devices",
            {"round_trips": trips},
        )
    trim = int(np.median(trips))
    rate = ctx.cfg.audio.sample_rate
    data = {"round_trips": trips, "trim": trim}
    detail = (
        f"round trip {trim} samples ({trim / rate * 1000:.2f} ms) past the reported "
        f"output position; audio.playback_latency_trim = {trim}"
    )
    if ctx.write_trim:
        written = write_trim(ctx.cfg.source, trim)
        return Result("playback latency", PASS, f"{detail}, written to {written}", data=data)
    if ctx.cfg.audio.playback_latency_trim != trim:
        return Result(
            "playback latency",
            WARN,
            f"{detail}; the config has {ctx.cfg.audio.playback_latency_trim}",
            "stagebox doctor --loopback N --write-trim writes it to the config",
            data,
        )
    return Result("playback latency", PASS, detail, data=data)


def write_trim(path: Path | None, trim: int) -> Path:
    """Set `[audio] playback_latency_trim` in the config file at `path`, keeping the rest."""
    from stagebox.config import config_from_text
    from stagebox.config.schema import DEFAULT_PATH

    path = Path(path or DEFAULT_PATH)
    text = path.read_text() if path.exists() else ""
    line = f"playback_latency_trim = {trim}  # samples, measured by stagebox doctor"
    key = re.compile(r"(?m)^[ \t]*playback_latency_trim[ \t]*=.*$")
    section = re.search(r"(?m)^\[audio\][ \t]*(#.*)?\n?", text)
    if section and key.search(text, section.end()):
        start = section.end()
        text = text[:start] + key.sub(line, text[start:], count=1)
    elif section:
        text = text[: section.end()] + line + "\n" + text[section.end() :]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + "[audio]\n" + line + "\n"
    config_from_text(text, path)  # the result must still be a config the service accepts
    path.write_text(text)
    return path
