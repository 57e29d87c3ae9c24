"""Where the exports go: standard output or a file, and credentials only ever to private files."""

from __future__ import annotations

import sys
from pathlib import Path

from ..credentials import write_private
from ..settings import Settings
from ..spec import StackSpec
from . import compose, k8s


def export_compose(spec: StackSpec, settings: Settings, output: Path | None) -> list[str]:
    """Write compose.yaml to ``output`` (or stdout) and its env files; return notes for the user."""
    rendered = compose.export(spec, output.parent if output else Path.cwd(), settings.private_dir)
    for path, text in rendered.env_files.items():
        write_private(path, text)
    notes = _emit(rendered.text, output, private=False)
    notes += [f"credentials: {path} (mode 0600)" for path in rendered.env_files]
    return [*notes, f"run: docker compose -f {output or 'compose.yaml'} up -d --wait, then open {spec.url}"]


def export_k8s(spec: StackSpec, output: Path | None, replicas: int) -> list[str]:
    """Write the manifests to ``output`` (or stdout); return notes for the user."""
    # The manifests include the Secret, so a file of them is as private as the credentials file.
    notes = _emit(k8s.export(spec, replicas), output, private=True)
    return [*notes, f"run: kubectl apply -f {output or 'FILE'} (the cluster pulls {spec.app.image})"]


def _emit(text: str, output: Path | None, private: bool) -> list[str]:
    if output is None:
        sys.stdout.write(text)
        return []
    if private:
        write_private(output, text)
    else:
        output.write_text(text)
    return [f"wrote {output}" + (" (mode 0600)" if private else "")]
