"""What a container costs and what its database saw: CPU time, memory, server status counters."""

from __future__ import annotations

from collections.abc import Iterable

from docker.errors import APIError
from docker.models.containers import Container

from stack.readiness import DB_ROOT_CLIENT

from .background import Paced

# Counters that prove each request reached the database: a query (the app) or a connection (PHP).
DB_COUNTERS = ("Connections", "Questions", "Aborted_connects")
_STATUS_QUERY = (
    f'{DB_ROOT_CLIENT} --batch --skip-column-names -e "SHOW GLOBAL STATUS WHERE Variable_name IN ({{names}})"'
)


def _stats(container: Container) -> dict:
    return container.stats(stream=False, one_shot=True)


def cpu_seconds(container: Container) -> float:
    """CPU time the container's processes have used since it started (user and system)."""
    return _stats(container)["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9


def memory_bytes(container: Container) -> int:
    """Memory in use as `docker stats` counts it: usage less the page cache it could drop."""
    memory = _stats(container).get("memory_stats") or {}
    details = memory.get("stats") or {}
    # cgroup v1 names it total_inactive_file, v2 inactive_file.
    reclaimable = details.get("total_inactive_file", details.get("inactive_file", 0))
    return max(int(memory.get("usage", 0)) - int(reclaimable), 0)


def db_status(db: Container) -> dict[str, int]:
    """The DB server's counters in DB_COUNTERS, read from inside its container (it is not published)."""
    names = ", ".join(f"'{name}'" for name in DB_COUNTERS)
    result = db.exec_run(["sh", "-c", _STATUS_QUERY.format(names=names)])
    if result.exit_code != 0:
        raise RuntimeError(f"cannot read the DB's status counters: {result.output.decode(errors='replace')}")
    pairs = (line.split("\t") for line in result.output.decode().splitlines() if "\t" in line)
    return {name: int(value) for name, value in pairs}


class MemorySampler(Paced):
    """Samples the memory of some containers in the background and keeps each one's peak."""

    def __init__(self, containers: Iterable[Container], interval: float = 0.5) -> None:
        self.containers = list(containers)
        self.interval = interval
        self.peaks: dict[str, int] = {c.name: 0 for c in self.containers}

    def tick(self) -> None:
        for container in self.containers:
            try:
                used = memory_bytes(container)
            except APIError:
                continue  # removed under us: the caller finds out on its own
            self.peaks[container.name] = max(self.peaks[container.name], used)
