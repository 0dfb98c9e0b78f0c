"""Our websocket hub beside Centrifugo v6, measured with the same Go client generator.

Builds Centrifugo v6.9.1 (`go install`, once, into .voc/bench-bin/) and bench/wsload, the Go
program that plays the clients of both systems (Python clients could not read 40,000 frames a
second on two cores without starving the servers). Starts Centrifugo (memory engine, no history,
no presence) and, for ours, a throwaway redis-server, an embedded broker and one `voc api` on
SQLite with the demo org tree and its hub on Redis; signs in a few frontline users of one store.

Load: for each client count and run, wsload connects the clients (at --connect-rate a second,
not measured) and subscribes each to that store; once all are ready, a publisher thread sends
--rate comment events a second for --seconds into each system, the same ~650-byte payload:
through Redis as the ingest worker publishes (`RedisHub`) for ours, through the HTTP API for
Centrifugo. Each event carries its publish time and sequence number; wsload times every event
at every client and counts the distinct sequence numbers each client got. Server CPU is the
server process's user+system time over the window (`voc api` alone: Redis is not counted).

`--systems voc2` runs two `voc api` instances on the one Redis, `--clients` on each (a wsload
per instance), and reports the worse instance's latency and CPU: the targets hold per instance.

Memory: --memory idle subscribed sockets on each system, RSS before and after. Then a check that
--idle sockets connect and subscribe to our API without errors.

    python bench/ws_hub.py [--clients 100,1000,2000] [--rate 20] [--seconds 20] [--runs 3]
                           [--memory 2000] [--idle 10000] [--systems voc,voc2,centrifugo]

Needs Go and redis-server. Prints markdown tables: each run, then the medians. The defaults take
about 9 minutes on two cores (plus about 2 to build Centrifugo the first time). The machine's
two cores are shared by the server, wsload and the publisher: run it on an otherwise idle
machine; the "machine busy" column shows what else ran.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.broker.embedded import free_port  # noqa: E402
from app.core.access import Role  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.demo import DEMO_TREE  # noqa: E402
from app.hub.redis import RedisHub  # noqa: E402
from app.orgfile import read_units  # noqa: E402
from bench.stack import api, embedded_broker, scratch  # noqa: E402
from bench.wsclients import (  # noqa: E402
    Wsload,
    build_wsload,
    cpu_seconds,
    machine_ticks,
    parser_of,
)
from tests.harness import RedisServer  # noqa: E402

BIN = ROOT / ".voc" / "bench-bin"
CENTRIFUGO = "github.com/centrifugal/centrifugo/v6"
CENTRIFUGO_VERSION = "v6.9.1"
UNIT = "paris-01"
"""The demo tree's store every client watches and every event is about."""
USERS = 4
"""Signed-in users; the sockets share their sessions (Centrifugo: their tokens)."""
READY_TIMEOUT_S = 30
"""How long one client may take to connect and subscribe before it counts as failed."""
DRAIN_S = 2.0
"""After the last publish, how long the clients keep reading before they close."""
SETTLE_S = 2.0
"""Between runs, and before reading memory, so the servers have let go of the last clients."""
WARM_UP = 20
"""Sockets opened and closed once before the baseline RSS, so lazy imports are not counted."""


@dataclass(frozen=True)
class System:
    """A server under test: where its clients connect and how an event is published to it."""

    name: str
    """`voc`, `voc2` (two API instances on one Redis) or `centrifugo`."""
    mode: str
    """wsload's -mode: `voc` or `centrifugo`."""
    ws_urls: tuple[str, ...]
    """One per server instance; the clients are split evenly between them."""
    tokens: list[str]
    pids: tuple[int, ...]
    publish: Callable[[bytes], None]

    @property
    def pid(self) -> int:
        """The first instance's process."""
        return self.pids[0]


@dataclass(frozen=True)
class Run:
    system: str
    clients: int
    asked: float
    """Frames a second the clients should receive in all: clients x events a second."""
    p50: float
    p99: float
    delivered: float
    server_cores: float
    client_cores: float
    dropped: int
    other_per_s: float
    busy: float
    """The whole machine's share of CPU time not idle over the window, every process counted."""


def build(go: str) -> Path:
    """Centrifugo into BIN unless it is there, and wsload; the directory holding both."""
    BIN.mkdir(parents=True, exist_ok=True)
    if not (BIN / "centrifugo").exists():
        print(f"building Centrifugo {CENTRIFUGO_VERSION} (a few minutes)", file=sys.stderr)
        version = f"-X {CENTRIFUGO}/internal/build.Version={CENTRIFUGO_VERSION.lstrip('v')}"
        command = [go, "install", "-ldflags", f"-s -w {version}"]
        command.append(f"{CENTRIFUGO}@{CENTRIFUGO_VERSION}")
        subprocess.run(command, check=True, env=os.environ | {"GOBIN": str(BIN)})
    build_wsload(go, BIN)
    return BIN


@contextmanager
def voc_system(tmp: Path, instances: int = 1) -> Iterator[System]:
    """redis-server, an embedded broker and `instances` `voc api`s whose hub is on that Redis,
    sharing one database."""
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("redis-server is not installed (deploy/install-services.sh installs it)")
    with ExitStack() as stack:
        redis = RedisServer(redis_binary, free_port(), tmp)
        redis.start()
        stack.callback(redis.stop)
        bootstrap = stack.enter_context(embedded_broker(tmp))
        database = f"sqlite:///{tmp / 'voc.db'}"
        env = {"VOC_REDIS_URL": redis.url}
        apps = [stack.enter_context(api(bootstrap, database, tmp, env=env))]
        apps += [
            stack.enter_context(api(bootstrap, database, tmp, env=env))
            for _ in range(instances - 1)
        ]
        app = apps[0]
        tokens = []
        for i in range(USERS):
            header = app.sign_in(f"phone-{i}", Role.FRONTLINE, [UNIT])
            tokens.append(header["Authorization"].removeprefix("Bearer "))
        # The channel the API subscribes to: its default, or VOC_REDIS_CHANNEL if set here.
        hub = RedisHub(redis.url, prefix=Settings(redis_url=redis.url).redis_channel)
        asyncio.run(hub.start())
        stack.callback(lambda: asyncio.run(hub.stop()))
        sink = hub.sink()
        yield System(
            "voc" if instances == 1 else f"voc{instances}",
            "voc",
            tuple(a.url.replace("http", "ws", 1) + "/ws" for a in apps),
            tokens,
            tuple(a.pid for a in apps),
            lambda payload: sink.publish([payload]),
        )


@contextmanager
def centrifugo_system(bin_dir: Path, tmp: Path) -> Iterator[System]:
    """Centrifugo on a free loopback port: HMAC tokens, the HTTP API, channels without a
    namespace open to signed-in clients, no history or presence."""
    port, secret, key = free_port(), secrets.token_hex(16), secrets.token_hex(16)
    config = {
        "http_server": {"address": "127.0.0.1", "port": port},
        "log": {"level": "warn"},
        "client": {"token": {"hmac_secret_key": secret}, "allowed_origins": []},
        "channel": {"without_namespace": {"allow_subscribe_for_client": True}},
        "http_api": {"key": key},
        "usage_stats": {"disabled": True},
    }
    path = tmp / "centrifugo.json"
    path.write_text(json.dumps(config, indent=2))
    with (tmp / "centrifugo.log").open("ab") as log:
        process = subprocess.Popen(
            [str(bin_dir / "centrifugo"), "--config", str(path)],
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"X-API-Key": key, "Content-Type": "application/json"},
        timeout=10,
    )
    channel = json.dumps(UNIT).encode()

    def publish(payload: bytes) -> None:
        answer = client.post(
            "/api/publish", content=b'{"channel":%s,"data":%s}' % (channel, payload)
        )
        if answer.status_code != 200 or "error" in answer.json():
            raise RuntimeError(f"Centrifugo refused a publish: {answer.status_code} {answer.text}")

    try:
        _wait_centrifugo(client, process)
        tokens = [_jwt(secret, f"phone-{i}") for i in range(USERS)]
        yield System(
            "centrifugo",
            "centrifugo",
            (f"ws://127.0.0.1:{port}/connection/websocket",),
            tokens,
            (process.pid,),
            publish,
        )
    finally:
        client.close()
        _stop(process)


def _wait_centrifugo(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Centrifugo exited with {process.returncode}: see centrifugo.log")
        try:
            if client.post("/api/info", content=b"{}").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("Centrifugo not ready")


def _jwt(secret: str, subject: str) -> str:
    """A connection token: HS256, the user in `sub`, valid for a day."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"sub": subject, "exp": int(time.time()) + 86400}
    signed = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{b64(signature)}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def event_maker() -> Callable[[int, int], bytes]:
    """The comment event both systems carry: a masked ResponseView of a detractor at UNIT, with
    `sent_ns` (publish time, Unix ns) and `seq` at the top level, where wsload looks for them."""
    view = {
        "response_id": "r-0f3c9a2e",
        "survey_id": "after-visit",
        "submitted_at": "2026-12-07T09:14:02Z",
        "score": 3,
        "score_kind": "nps",
        "comment": "Two hours late and nobody called to tell us.",
        "language": "en",
        "channel": "sms",
        "touchpoint": "store",
        "org_unit": UNIT,
        "customer_type": "person",
        "contact": {"name": "J•••"},
        "contact_masked": True,
        "polarity": -0.41,
        "dissatisfied": True,
        "severity": "high",
        "negative_comment": True,
        "negative_probability": 0.87,
        "reasons": [
            {"kind": "score", "label": "NPS 3: very poor (0\u20133)"},
            {"kind": "text", "label": "negative comment"},
        ],
    }
    data = json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode()
    head = (
        b'{"type":"comment","org_unit":%s,"touchpoint":"store","sent_ns":'
        % json.dumps(UNIT).encode()
    )

    def make(seq: int, sent_ns: int) -> bytes:
        return head + b'%d,"seq":%d,"data":' % (sent_ns, seq) + data + b"}"

    return make


class Publisher(threading.Thread):
    """Publishes `rate` events a second for `seconds` on a fixed schedule (a late one does not
    move the next); each event's time is taken right before its publish."""

    def __init__(self, system: System, rate: float, seconds: float) -> None:
        super().__init__(name=f"publish-{system.name}", daemon=True)
        self._publish, self._rate, self._seconds = system.publish, rate, seconds
        self._make = event_maker()
        self.published = 0
        self.error: Exception | None = None

    def run(self) -> None:
        start = time.monotonic()
        try:
            for seq in range(round(self._rate * self._seconds)):
                delay = start + seq / self._rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._publish(self._make(seq, time.time_ns()))
                self.published += 1
        except Exception as exc:
            self.error = exc


def start_load(
    system: System,
    clients: int,
    args: argparse.Namespace,
    *,
    idle: bool = False,
    instance: int = 0,
) -> Wsload:
    """A wsload playing `clients` clients of one of the system's instances."""
    url = system.ws_urls[instance]
    command = [str(args.bin / "wsload"), "-mode", system.mode, "-url", url]
    command += ["-tokens", ",".join(system.tokens), "-units", UNIT, "-clients", str(clients)]
    command += ["-rate", str(args.connect_rate), "-ready-timeout", f"{READY_TIMEOUT_S}s"]
    ramp_s = clients / args.connect_rate + READY_TIMEOUT_S + 30
    return Wsload(command + (["-idle"] if idle else []), args.tmp, ramp_s)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(system: System, clients: int, args: argparse.Namespace) -> Run:
    """One run: connect the clients (`clients` to each instance), publish for the window,
    drain, read the summaries. With several instances, latency and CPU are the worst
    instance's: each must meet the targets."""
    with ExitStack() as stack:
        loads = [
            stack.enter_context(start_load(system, clients, args, instance=i))
            for i in range(len(system.ws_urls))
        ]
        ready = [load.ready() for load in loads]
        publisher = Publisher(system, args.rate, args.seconds)
        server0 = [cpu_seconds(pid) for pid in system.pids]
        client0 = sum(cpu_seconds(load.process.pid) for load in loads)
        busy0, all0 = machine_ticks()
        started = time.monotonic()
        publisher.start()
        publisher.join()
        window = time.monotonic() - started
        server = max(cpu_seconds(pid) - s0 for pid, s0 in zip(system.pids, server0, strict=True))
        client = sum(cpu_seconds(load.process.pid) for load in loads) - client0
        busy1, all1 = machine_ticks()
        if publisher.error is not None:
            raise publisher.error
        time.sleep(DRAIN_S)
        summaries = [load.finish() for load in loads]
    time.sleep(SETTLE_S)
    for ready_line, summary in zip(ready, summaries, strict=True):
        if ready_line["failed"]:
            print(f"  {system.name}: failed clients: {summary['fail_reasons']}", file=sys.stderr)
    asked = publisher.published * clients * len(loads)
    return Run(
        system=system.name,
        clients=clients,
        asked=clients * args.rate,
        p50=max(s["latency_ms"]["p50"] for s in summaries),
        p99=max(s["latency_ms"]["p99"] for s in summaries),
        delivered=sum(s["distinct_seq"] for s in summaries) / asked if asked else 0.0,
        server_cores=server / window,
        client_cores=client / window,
        dropped=sum(s["dropped"] for s in summaries),
        other_per_s=sum(s["other_frames"] / s["held_s"] for s in summaries) / len(loads),
        busy=(busy1 - busy0) / max(all1 - all0, 1),
    )


def memory(system: System, sockets: int, args: argparse.Namespace) -> dict[str, Any]:
    """The server's RSS before and after `sockets` idle subscribed clients."""
    with start_load(system, WARM_UP, args, idle=True) as warm:
        warm.ready()
        warm.finish()
    time.sleep(SETTLE_S)
    before = rss_kib(system.pid)
    with start_load(system, sockets, args, idle=True) as idle_load:
        ready = idle_load.ready()
        time.sleep(SETTLE_S)
        after = rss_kib(system.pid)
        summary = idle_load.finish()
    time.sleep(SETTLE_S)
    per = (after - before) / max(ready["ready"], 1)
    row = {"system": system.name, "sockets": sockets, "per": per}
    return row | {"before": before / 1024, "after": after / 1024} | summary


def idle_check(system: System, sockets: int, args: argparse.Namespace) -> dict[str, Any]:
    """Whether `sockets` idle clients connect and subscribe, and the server's RSS with them."""
    with start_load(system, sockets, args, idle=True) as idle_load:
        ready = idle_load.ready()
        time.sleep(SETTLE_S)
        rss = rss_kib(system.pid)
        summary = idle_load.finish()
    time.sleep(SETTLE_S)
    reasons = ", ".join(f"{k}: {v}" for k, v in summary["fail_reasons"].items()) or "none"
    return {"system": system.name, "rss": rss / 1024, "reasons": reasons} | ready | summary


LOAD_COLUMNS = {
    "system": "{system}",
    "clients": "{clients:,}",
    "frames/s asked": "{asked:,.0f}",
    "p50 ms": "{p50:.1f}",
    "p99 ms": "{p99:.1f}",
    "delivered": "{delivered:.2%}",
    "server cores": "{server_cores:.2f}",
    "wsload cores": "{client_cores:.2f}",
    "dropped": "{dropped}",
    "other frames/s": "{other_per_s:,.0f}",
    "machine busy": "{busy:.0%}",
}
MEMORY_COLUMNS = {
    "system": "{system}",
    "sockets": "{sockets:,}",
    "ready": "{ready:,}",
    "RSS before MiB": "{before:.0f}",
    "RSS after MiB": "{after:.0f}",
    "KiB per socket": "{per:.1f}",
    "dropped": "{dropped}",
}
IDLE_COLUMNS = {
    "system": "{system}",
    "sockets": "{clients:,}",
    "ready": "{ready:,}",
    "failed": "{failed:,}",
    "failures": "{reasons}",
    "connect s": "{ramp_s:.1f}",
    "RSS MiB": "{rss:.0f}",
    "dropped": "{dropped}",
}


def table(title: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> None:
    """A markdown table, its columns aligned for reading in a terminal too."""
    cells = [[f.format(**row) for f in columns.values()] for row in rows]
    widths = [max(map(len, c)) for c in zip(columns, *cells, strict=True)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + " |")


def medians(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per system and client count, the median of each figure; dropped: the sum of the runs."""
    out = []
    for key in dict.fromkeys((r.system, r.clients) for r in runs):
        group = [asdict(r) for r in runs if (r.system, r.clients) == key]
        row = {k: statistics.median(g[k] for g in group) for k in group[0] if k != "system"}
        out.append(row | {"system": key[0], "dropped": sum(g["dropped"] for g in group)})
    return out


def listed(
    kind: Callable[[str], Any], allowed: set[str] | None = None
) -> Callable[[str], list[Any]]:
    """An argparse type: a comma-separated list."""

    def parse(value: str) -> list[Any]:
        chosen = [kind(v.strip()) for v in value.split(",") if v.strip()]
        if not chosen or (allowed is not None and set(chosen) - allowed):
            raise argparse.ArgumentTypeError(f"comma-separated, of {allowed or kind.__name__}")
        return chosen

    return parse


def parse_args() -> argparse.Namespace:
    parser = parser_of(__doc__)
    add = parser.add_argument
    add(
        "--clients",
        type=listed(int),
        default=[100, 1000, 2000],
        help="client counts, all on one unit",
    )
    add("--rate", type=float, default=20, help="events a second, to every client")
    add("--seconds", type=float, default=20, help="publishing window once all clients are ready")
    add("--runs", type=int, default=3, help="runs of each system and client count; medians")
    add("--connect-rate", type=float, default=500, help="new connections a second (not measured)")
    add("--memory", type=int, default=2000, help="idle sockets for memory, each system; 0: skip")
    add("--idle", type=int, default=10000, help="idle sockets our API must take; 0: skip")
    add(
        "--systems",
        type=listed(str, {"voc", "voc2", "centrifugo"}),
        default=["voc", "centrifugo"],
        help="voc2: two API instances on one Redis, --clients on each",
    )
    add("--go", default=shutil.which("go") or "go", help="the go command")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if UNIT not in {u.id for u in read_units(DEMO_TREE)}:
        raise SystemExit(f"{UNIT} is not in the demo tree any more: pick another store")
    # Unwind as on Ctrl-C, so every process started here is stopped (`timeout` sends SIGTERM).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    args.bin = build(args.go)
    runs: list[Run] = []
    memory_rows: list[dict[str, Any]] = []
    idle_rows: list[dict[str, Any]] = []
    with scratch("voc-ws-hub-") as args.tmp, ExitStack() as stack:
        chosen = [
            stack.enter_context(
                centrifugo_system(args.bin, args.tmp)
                if name == "centrifugo"
                else voc_system(args.tmp, instances=2 if name == "voc2" else 1)
            )
            for name in args.systems
        ]
        single = [s for s in chosen if len(s.pids) == 1]
        if args.memory:
            memory_rows = [memory(s, args.memory, args) for s in single]
        for clients in args.clients:
            for n in range(1, args.runs + 1):
                for system in chosen:
                    runs.append(r := measure(system, clients, args))
                    line = f"run {n}: {r.system}, {r.clients:,} clients: p50 {r.p50:.1f} ms, "
                    print(f"{line}p99 {r.p99:.1f} ms, {r.delivered:.2%} delivered", file=sys.stderr)
        if args.idle:
            idle_rows = [idle_check(s, args.idle, args) for s in single if s.name == "voc"]
    title = f"{args.rate:g} events/s to every client for {args.seconds:g} s, all on {UNIT}"
    if runs:
        table(f"Each run: {title}", LOAD_COLUMNS, [asdict(r) for r in runs])
        table(f"Medians of {args.runs} run(s): {title}", LOAD_COLUMNS, medians(runs))
        print(
            "\ndelivered: distinct events received / (published x clients); server cores: the "
            "server process's CPU over the window; dropped: clients the server closed (medians: "
            "all runs); other frames/s: frames without events, e.g. barometers; machine busy: "
            "both cores, every process (the publisher, Redis, anything else running)"
        )
    if memory_rows:
        table("Idle subscribed sockets: the server's RSS", MEMORY_COLUMNS, memory_rows)
    if idle_rows:
        table("Idle sockets on our API", IDLE_COLUMNS, idle_rows)
    print(f"\nwall time: {time.monotonic() - started:.0f}s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
