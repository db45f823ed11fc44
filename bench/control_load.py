"""Load test: many engineers' clients at once on the control socket of the real service.

    .venv/bin/python bench/control_load.py                      # 200 clients, 4,000 requests
    .venv/bin/python bench/control_load.py --clients 50 --requests 500

Starts `stagebox run` (simulated stage, fed in real time so the audio loop runs as on a stage:
LTC, cues, takes recorded), then releases every client at once: each connects (the burst the
listen backlog must absorb) and sends its share of requests on its connection, mostly
`status` (what `stagebox monitor` polls), with `cues.list`, `takes` and `report`. Clients run
as threads spread over a few processes so the bench's own interpreter lock does not queue
them. Prints the answers and refusals, the latency of `status` and of every request
(50th/99th percentile, max: from sending the request to reading the reply) and of the
connects (until the service accepted), the throughput, and checks the service logged no traceback
and kept its thread count.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from stagebox.control.client import ControlClient  # noqa: E402
from stagebox.control.protocol import ControlError  # noqa: E402
from stagebox.monitor.loop import POLL_INTERVAL  # noqa: E402

MIX = ("status", "status", "status", "cues.list", "status", "takes", "status", "report")


def _client(path: str, count: int, pace: float, start: threading.Barrier, out: list) -> None:
    """One engineer's client: connect, then `count` requests on the one connection, one every
    `pace` seconds (0: each as soon as the last is answered)."""
    start.wait()
    client = ControlClient(path, timeout=30.0)
    began = time.perf_counter()
    try:
        client.connect()
        out.append(("connect", time.perf_counter() - began, None))
        offset = random.random() * pace  # clients started at different moments
        for i in range(count):
            cmd = MIX[i % len(MIX)]
            if pace:
                wait = began + offset + i * pace - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            t0 = time.perf_counter()
            client.call(cmd)
            out.append((cmd, time.perf_counter() - t0, None))
    except ControlError as exc:
        out.append(("error", time.perf_counter() - began, str(exc)))
    finally:
        client.close()


def _process(path: str, clients: int, per_client: int, pace: float, barrier, queue) -> None:
    local = threading.Barrier(clients)
    results: list = []
    threads = [
        threading.Thread(target=_client, args=(path, per_client, pace, local, results))
        for _ in range(clients)
    ]
    for t in threads:
        t.start()
    barrier.wait()  # every process ready: the threads' own barrier releases them together
    for t in threads:
        t.join()
    queue.put(results)


def run_load(
    path: str, clients: int, requests: int, processes: int = 4, pace: float = POLL_INTERVAL
) -> dict:
    """`clients` concurrent clients sending `requests` requests in all to the socket at
    `path`, each one every `pace` seconds; returns the counts and latencies (seconds)."""
    per_client = max(1, requests // clients)
    processes = max(1, min(processes, clients))
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(processes + 1)
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_process, args=(path, n, per_client, pace, barrier, queue))
        for n in shares
    ]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    results = [item for _ in workers for item in queue.get(timeout=600)]
    wall = time.perf_counter() - started
    for w in workers:
        w.join(30)
    errors = [r[2] for r in results if r[0] == "error"]
    status = sorted(r[1] for r in results if r[0] == "status")
    every = sorted(r[1] for r in results if r[0] not in ("error", "connect"))
    connects = sorted(r[1] for r in results if r[0] == "connect")
    return {
        "clients": clients,
        "requests": clients * per_client,
        "answered": len(every),
        "errors": errors,
        "wall": wall,
        "status": status,
        "every": every,
        "connects": connects,
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def threads_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("Threads:")).split()[1])


def start_service(root: Path, seconds: float):
    """The real service on a simulated stage fed in real time for about `seconds`."""
    from servicerun import RunningService, StageDir, cue, write_sheet

    cues = [cue("101", "01:00:02:00", "01:00:04:00"), cue("102", "01:00:06:00", "01:00:07:00")]
    stage = StageDir(root)
    passes = max(2, int(seconds / 9))  # a pass: lead-in, 1 s pre-roll, the two cues, post-roll
    stage.write_feed(cues[:1], passes=passes, preroll=1.0)
    sheet = write_sheet(root / "reel1.csv", cues)
    stage.write_config(realtime=True, stage__cue_sheet=str(sheet), stage__mode="record")
    service = RunningService(stage)
    service.wait_until(lambda s: s.get("audio"), 30, "audio flowing")
    return service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument(
        "--pace",
        type=float,
        default=POLL_INTERVAL,
        help="seconds between a client's requests (default: stagebox monitor's poll; 0: flat out)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="stagebox-load-") as tmp:
        service = start_service(Path(tmp), seconds=120)
        try:
            time.sleep(1.0)
            before = threads_of(service.proc.pid)
            result = run_load(
                str(service.stage.socket), args.clients, args.requests, args.processes
            )
            time.sleep(1.0)  # handler threads end as their connections close
            after = threads_of(service.proc.pid)
            still = service.call("status")
            log = service.log
        finally:
            service.stop()
            service.close()
    status, every = result["status"], result["every"]
    ms = 1000.0
    print(f"clients {result['clients']}, requests {result['requests']}, pace {args.pace} s")
    print(f"answered {result['answered']}, refused or failed {len(result['errors'])}")
    for error in sorted(set(result["errors"]))[:5]:
        print(f"  error: {error}")
    print(
        f"status ({len(status)}): p50 {percentile(status, 50) * ms:.1f} ms, "
        f"p99 {percentile(status, 99) * ms:.1f} ms, max {status[-1] * ms:.1f} ms"
    )
    print(
        f"every request: p50 {percentile(every, 50) * ms:.1f} ms, "
        f"p99 {percentile(every, 99) * ms:.1f} ms, max {every[-1] * ms:.1f} ms"
    )
    connects = result["connects"]
    print(
        f"connect ({len(connects)}): p50 {percentile(connects, 50) * ms:.1f} ms, "
        f"p99 {percentile(connects, 99) * ms:.1f} ms, max {connects[-1] * ms:.1f} ms"
    )
    print(f"wall {result['wall']:.2f} s, {result['answered'] / result['wall']:.0f} requests/s")
    print(f"service threads {before} before, {after} after; audio flowing: {still['audio']}")
    print(f"tracebacks in the service log: {log.count('Traceback')}")


if __name__ == "__main__":
    main()
