"""Drive HTTP load with wrk and read its report, latency percentiles included."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

# wrk prints times with these units (see its stats code); everything here is milliseconds.
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


class WrkError(Exception):
    """wrk did not run, or printed something this parser does not understand."""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    socket_errors: int  # connect, read, write and timeout errors added up
    non_2xx: int  # answers outside 2xx and 3xx

    @property
    def failed(self) -> int:
        """Requests that did not get a 2xx/3xx answer."""
        return self.socket_errors + self.non_2xx

    def to_json(self) -> dict[str, float | int]:
        """The result as plain numbers."""
        return {**asdict(self), "failed": self.failed}


def parse(output: str) -> WrkResult:
    """Read wrk's report (run with ``--latency``)."""
    percentiles = {int(p): float(value) * _UNITS_MS[unit] for p, value, unit in _PERCENTILE.findall(output)}
    total, rate = _TOTAL.search(output), _RATE.search(output)
    if total is None or rate is None or set(percentiles) != {50, 75, 90, 99}:
        raise WrkError(f"unexpected wrk output:\n{output}")
    errors = _SOCKET_ERRORS.search(output)
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS_MS[total.group(3)] / 1e3,
        rps=float(rate.group(1)),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def post_script(body: str, content_type: str = "application/json") -> str:
    """A wrk Lua script that sends every request as a POST of ``body``."""
    quoted = body.replace("\\", "\\\\").replace('"', '\\"')
    return f'wrk.method = "POST"\nwrk.body = "{quoted}"\nwrk.headers["Content-Type"] = "{content_type}"\n'


def command(
    url: str, *, connections: int, threads: int, seconds: int, script: Path | None = None
) -> list[str]:
    """The wrk command line for one run."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    return [*args, url]


def run(
    url: str, *, connections: int = 32, threads: int = 2, seconds: int = 10, post_json: str | None = None
) -> WrkResult:
    """Load ``url`` for ``seconds`` and return what wrk measured."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise WrkError(f"refusing to load {url}: benchmarks only send traffic to this machine")
    with tempfile.TemporaryDirectory(prefix="aplbench-wrk-") as scratch:
        script = None
        if post_json is not None:
            script = Path(scratch, "post.lua")
            script.write_text(post_script(post_json))
        args = command(url, connections=connections, threads=threads, seconds=seconds, script=script)
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise WrkError(f"wrk did not run: {error}") from None
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)
