"""Where the exports go: standard output or a file, and credentials only ever to private files."""

from __future__ import annotations

import sys
from pathlib import Path

from ..credentials import write_private
from ..errors import StackError
from ..settings import Settings
from ..spec import StackSpec
from . import compose, k8s


def export_compose(spec: StackSpec, settings: Settings, output: Path | None) -> list[str]:
    """Write compose.yaml to ``output`` (or stdout) and its env files; return notes for the user."""
    # Checked before the env files are written: a bad -o must leave nothing behind.
    check_output(output)
    rendered = compose.export(spec, output.parent if output else None, settings.private_dir)
    for path, text in rendered.env_files.items():
        write_private(path, text)
    notes = _emit(rendered.text, output, private=False)
    notes += [f"credentials: {path} (mode 0600)" for path in rendered.env_files]
    return [*notes, f"run: docker compose -f {output or 'compose.yaml'} up -d --wait, then open {spec.url}"]


def export_k8s(spec: StackSpec, output: Path | None, replicas: int) -> list[str]:
    """Write the manifests to ``output`` (or stdout); return notes for the user."""
    check_output(output)
    # The manifests include the Secret, so a file of them is as private as the credentials file.
    notes = _emit(k8s.export(spec, replicas), output, private=True)
    return [*notes, f"run: kubectl apply -f {output or 'FILE'} (the cluster pulls {spec.app.image})"]


def check_output(output: Path | None) -> None:
    """Refuse an ``-o`` path that cannot be written as a file, before anything is written."""
    if output is None:
        return
    if not output.parent.is_dir():
        raise StackError(
            f"cannot write {output}: folder {output.parent} does not exist",
            f"create it first (mkdir -p {output.parent}), or give -o a path in an existing folder",
        )
    if output.is_dir():
        raise StackError(f"cannot write {output}: it is a folder", "give -o a file name, such as out.yaml")


def _emit(text: str, output: Path | None, private: bool) -> list[str]:
    if output is None:
        sys.stdout.write(text)
        return []
    if private:
        write_private(output, text)  # raises StackError itself
    else:
        try:
            output.write_text(text)
        except OSError as error:
            raise StackError(
                f"cannot write {output}: {error.strerror or error}",
                "choose another path, or fix the permissions of its folder",
            ) from None
    return [f"wrote {output}" + (" (mode 0600)" if private else "")]
