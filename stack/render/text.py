"""Text forms shared by the renderings: durations and YAML documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


def duration(seconds: float) -> str:
    """A duration as Docker and Compose write it: ``5s``, ``1.5s``."""
    return f"{seconds:g}s"


class _Dumper(yaml.SafeDumper):
    """Block style throughout; multi-line strings (SQL files) as literal blocks a person can read."""

    def ignore_aliases(self, data: Any) -> bool:
        """Write a value shared by two probes twice rather than as an anchor a reader must chase."""
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def dump_yaml(documents: Iterable[Any], header: str = "") -> str:
    """YAML text of ``documents`` in the given key order, separated by ``---``, after a comment ``header``."""
    body = yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 16,
    )
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + body
