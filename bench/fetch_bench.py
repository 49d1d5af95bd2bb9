"""Fetch throughput under politeness rules, on loopback only.

    python bench/fetch_bench.py [--hosts 20] [--pages 2000] [--delay 0.1] [--out bench/results/fetch.json]

A server in its own process (so it does not compete with the fetcher for the GIL) answers every
``/p/N.html`` with an article page of about 8 KB and ``/robots.txt`` with a 404. The fetcher sees
``--hosts`` made-up host names (``news-01.example`` ...), all resolved to 127.0.0.1 through the
``Fetcher.resolve`` hook, so politeness is kept per name exactly as it would be per real host.
The candidates are interleaved across hosts, as a real shard's are, and fetched with
:func:`cleaning.fetch.fetch_shard` under the given per-host delay (robots.txt is read first, as
in production, and costs each host one delay).

What the rules allow: each host may start one request every ``delay`` seconds, so at best
``hosts / delay`` pages a second. The benchmark reports the measured pages a second, its share of
that ideal, that every URL ended as a capture or a failure, the per-host spacing between request
starts (as the fetcher kept it) and between arrivals (as the server saw it, accept-queue jitter
included),
and (for scale) the same run with no delay and the time to write the shard's WARC.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import socket
import sys
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PARAGRAPH = "The council approved the harbour plan after a long debate on costs, jobs and the tides. " * 10


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if self.path == "/_arrivals":  # the benchmark's own question, not a fetch
            body = json.dumps(self.server.arrivals).encode()
            self.server.arrivals = {}
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.server.arrivals.setdefault(host, []).append(time.monotonic())
        if self.path.startswith("/p/"):
            head = f"<html><head><meta charset='utf-8'><title>{self.path}</title></head>"
            story = f"<article><h1>{self.path}</h1>{'<p>' + PARAGRAPH + '</p>' * 8}</article>"
            body = f"{head}<body>{story}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            body = b"not here"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops SYNs under 20 hosts: 1 s retransmits


def _serve(port_queue) -> None:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.arrivals = {}  # host name -> arrival times of its requests, robots.txt included
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def loopback_resolver(host, port, *args, **kwargs):
    """Every name is 127.0.0.1: the benchmark can reach nothing else."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


def _record_request_starts(fetcher) -> dict[str, list[float]]:
    """Wrap the politeness gate to note when each request to each host really starts."""
    import contextlib

    starts: dict[str, list[float]] = {}
    slot = fetcher.http.gate.slot

    @contextlib.contextmanager
    def recording_slot(host, delay):
        with slot(host, delay):
            starts.setdefault(host, []).append(time.monotonic())
            yield

    fetcher.http.gate.slot = recording_slot
    return starts


def _gaps(times_by_host: dict[str, list[float]]) -> list[float]:
    gaps = []
    for times in times_by_host.values():
        times = sorted(times)
        gaps.extend(b - a for a, b in zip(times, times[1:]))
    return sorted(gaps)


def _summary(gaps: list[float]) -> dict | None:
    if not gaps:
        return None
    return {"min": round(gaps[0], 4), "p1": round(gaps[len(gaps) // 100], 4), "median": round(gaps[len(gaps) // 2], 4)}


def run_once(port: int, hosts: int, pages: int, delay: float, workers: int) -> dict:
    from cleaning.config import Config, FetchConfig, Source
    from cleaning.fetch import Fetcher, fetch_shard
    from cleaning.fetch.warc import build_warc
    from cleaning.models import Candidate

    names = [f"news-{i + 1:02d}.example" for i in range(hosts)]
    settings = FetchConfig(
        allow_networks=("127.0.0.0/8",),
        delay_seconds=delay,
        max_workers=workers,
        retries=1,
        backoff_seconds=0.05,
        timeout_seconds=10,
        total_timeout_seconds=30,
    )
    source = Source(name="bench", kind="sitemap", url=f"http://{names[0]}:{port}/sitemap.xml")
    config = Config(path=Path("bench.toml"), lake="", sources=(source,), fetch=settings)
    candidates = [Candidate(f"http://{names[i % hosts]}:{port}/p/{i}.html", "bench", "bench") for i in range(pages)]
    fetcher = Fetcher(settings, resolve=loopback_resolver)
    starts = _record_request_starts(fetcher)
    started = time.monotonic()
    result = fetch_shard(candidates, config, fetcher)
    elapsed = time.monotonic() - started
    warc_started = time.monotonic()
    warc = build_warc(result.exchanges)
    warc_seconds = time.monotonic() - warc_started

    ideal_rate = hosts / delay if delay else None
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_arrivals", timeout=10) as answer:
        arrivals = json.loads(answer.read())
    sent = _gaps(starts)  # between two request starts to one host, as the fetcher kept them
    seen = _gaps(arrivals)  # between two arrivals at one host, as the server saw them (accept-queue jitter included)
    rate = len(result.captures) / elapsed
    return {
        "hosts": hosts,
        "pages": pages,
        "delay_seconds": delay,
        "workers": workers,
        "seconds": round(elapsed, 3),
        "pages_per_second": round(rate, 1),
        "ideal_pages_per_second": ideal_rate,
        "share_of_ideal": round(rate / ideal_rate, 3) if ideal_rate else None,
        "captures": len(result.captures),
        "failures": len(result.failures),
        "failure_reasons": sorted({f.reason for f in result.failures}),
        "all_accounted": len(result.captures) + len(result.failures) == pages,
        "requests_seen_by_server": sum(len(t) for t in arrivals.values()),
        "hosts_seen_by_server": len(arrivals),
        "request_start_spacing_seconds": _summary(sent),
        "arrival_spacing_seconds": _summary(seen),
        "warc_bytes": len(warc),
        "warc_seconds": round(warc_seconds, 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--out", default="bench/results/fetch.json")
    args = parser.parse_args(argv)

    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=10)
        polite = run_once(port, args.hosts, args.pages, args.delay, args.workers)
        unthrottled = run_once(port, args.hosts, args.pages, 0.0, args.workers)
    finally:
        server.terminate()
        server.join(5)
    report = {
        "benchmark": "fetch throughput under per-host politeness, loopback only",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "command": " ".join([Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])]),
        "polite": polite,
        "no_delay": unthrottled,
    }
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    ok = polite["all_accounted"] and polite["failures"] == 0 and (polite["share_of_ideal"] or 0) >= 0.8
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
