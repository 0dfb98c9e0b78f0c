"""The Go client generator both websocket benches drive (bench/wsload), and the process
figures they read from /proc."""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

WSLOAD = Path(__file__).resolve().parent / "wsload"


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parser_of(doc: str) -> argparse.ArgumentParser:
    """A parser whose --help gives the flags with their defaults, then the script's docstring
    `doc` (its first line as the description)."""
    lines = doc.splitlines()
    return argparse.ArgumentParser(
        description=lines[0], epilog="\n".join(lines[2:]), formatter_class=_Help
    )


def build_wsload(go: str, into: Path) -> Path:
    """bench/wsload built into the directory `into` (it has its own go.mod, so it is built from
    its directory); the binary."""
    into.mkdir(parents=True, exist_ok=True)
    binary = into / "wsload"
    subprocess.run([go, "build", "-o", str(binary), "."], check=True, cwd=WSLOAD)
    return binary


class Wsload:
    """One wsload process, killed on exit: its ready line, then its summary once told to stop
    (bench/wsload/summary.go). Its log goes to `log_dir`/wsload.log."""

    def __init__(self, command: list[str], log_dir: Path, ramp_s: float) -> None:
        self._ramp_s = ramp_s
        with (log_dir / "wsload.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
        self._lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def __enter__(self) -> Wsload:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def ready(self) -> dict[str, Any]:
        """`{"ready": R, "failed": F, "ramp_s": S, ...}` once every client is ready or failed."""
        return self._next(self._ramp_s)

    def finish(self) -> dict[str, Any]:
        """Close the clients; wsload's summary."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        summary = self._next(60)
        self.process.wait(timeout=30)
        return summary

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(b"")

    def _next(self, timeout_s: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise SystemExit(f"wsload said nothing for {timeout_s:.0f}s") from None
        if not line:
            raise SystemExit(f"wsload exited with {self.process.wait()}: see wsload.log")
        found: dict[str, Any] = json.loads(line)
        return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has spent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """Busy and total jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)
