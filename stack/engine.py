"""Talking to the Docker engine: connecting, pulling and building, with errors a user can act on."""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import re
import weakref
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound
from docker.models.images import Image
from docker.utils import parse_repository_tag
from docker.utils.build import exclude_paths

from .errors import StackError
from .progress import Progress
from .spec import LABEL_CONTEXT_HASH, BuildSpec

STANDIN_FIX = (
    "without Docker Hub, build the local stand-ins (bash scripts/standin-images.sh) "
    "and run with --images standin (or APL_IMAGES=standin)"
)
REGISTRY = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")  # HOST[:PORT], as image names begin
PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")
PUSH_STATES = {"Pushing", "Pushed", "Layer already exists"}
REGISTRY_DOWN = ("no such host", "dial tcp", "i/o timeout", "tls handshake", "connection refused", "lookup ")
NO_IMAGE_FOR_PLATFORM = "no matching manifest"
EMULATED_PLATFORM = "linux/amd64"
_IMAGE_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}  # uname's names -> image names
# A build step as Docker's builder ("Step 5/17 : RUN ...") and Podman's ("STEP 5/17: RUN ...") print it.
BUILD_STEP = re.compile(r"^step (\d+/\d+) ?: ?(.*)$", re.IGNORECASE)
# A failed RUN's exit code: Docker "returned a non-zero code: 3", Podman "exit status 3".
EXIT_CODE = re.compile(r"(?:non-zero code|exit status):? (\d+)")


def connect(timeout: int = 30) -> docker.DockerClient:
    """A client for the engine that DOCKER_HOST (or the local socket) names, checked to answer."""
    where = os.environ.get("DOCKER_HOST") or "the local socket"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as error:
        raise StackError(
            f"the Docker engine at {where} does not answer ({_first_line(error)})",
            "start Docker (on a Debian host, as root: bash scripts/docker-engine.sh) or fix DOCKER_HOST",
        ) from None
    return client


ENGINE_LOST_FIX = (
    "check that the engine runs (`docker info`), then run the command again; "
    "`python orchestrate.py status` shows what exists"
)


def no_answer(error: BaseException) -> str | None:
    """Why the engine gave no answer to a request (gone, or hung past the timeout); None for other errors.

    docker-py lets the transport's errors through as they are: requests' timeouts and connection errors.
    """
    if isinstance(error, requests.Timeout):  # first: a connect timeout is a connection error too
        return "did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "could not be reached"
    return None


def lost(error: BaseException) -> StackError | None:
    """The error for a request the engine never answered, or None if ``error`` is another kind."""
    reason = no_answer(error)
    if reason is None:
        return None
    return StackError(
        f"the Docker engine {reason} ({_system_error(error) or _first_line(error)})", ENGINE_LOST_FIX
    )


def _system_error(error: BaseException) -> str | None:
    """The operating system's own words under the transport's wrappers ("[Errno 2] No such file or
    directory" for a socket that is gone), which requests and urllib3 show as nested tuples."""
    seen: list[BaseException] = [error]
    while seen:
        current = seen.pop()
        if isinstance(current, OSError) and current.errno is not None:
            return str(current)
        nested = (*current.args, getattr(current, "reason", None), current.__cause__)
        seen += [each for each in nested if isinstance(each, BaseException)]
    return None


def published_host(client: docker.DockerClient) -> str | None:
    """Where the engine's published ports answer: None for a local engine (a socket), else its host."""
    url = urlparse(client.api.base_url)
    return None if url.scheme.startswith("http+docker") else url.hostname


def ensure_image(client: docker.DockerClient, name: str, progress: Progress) -> Image:
    """The local image ``name``, pulled first if it is missing."""
    try:
        return client.images.get(name)
    except ImageNotFound:
        pass
    except APIError as error:  # the engine refuses the name itself (e.g. upper case)
        raise StackError(
            f"{name!r} is not a valid image reference: {_first_line(error.explanation or error)}",
            "write it as [registry/]name[:tag] or name@sha256:digest, in lower case",
        ) from None
    progress.update("Image", name, "Pulling")
    try:
        try:
            _pull(client, name)
        except APIError as error:
            # mysql:5.7 has no arm64 image: where the engine runs amd64 code (Docker Desktop on Apple
            # silicon does), the lesson's image still works, emulated, rather than not at all.
            if NO_IMAGE_FOR_PLATFORM not in str(error.explanation or error) or not can_emulate_amd64(client):
                raise
            progress.echo(
                f"note: {name} has no image for this {engine_arch(client)} engine; "
                f"running its {EMULATED_PLATFORM} image under emulation (slower)"
            )
            _pull(client, name, platform=EMULATED_PLATFORM)
    except APIError as error:
        progress.update("Image", name, "Failed")
        raise pull_error(name, str(error.explanation or error)) from None
    progress.update("Image", name, "Pulled")
    return client.images.get(name)


def _pull(client: docker.DockerClient, name: str, platform: str | None = None) -> None:
    repository, tag = parse_repository_tag(name)
    events = client.api.pull(repository, tag=tag or "latest", stream=True, decode=True, platform=platform)
    for event in events:
        if "error" in event:
            raise APIError(event["error"])


def display_name(image: str) -> str:
    """An image name as the user wrote it: Podman reports ``mysql:5.7`` as ``docker.io/library/mysql:5.7``."""
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if image.startswith(prefix):
            return image.removeprefix(prefix)
    return image


def name_in_use(error: APIError) -> bool:
    """Whether the engine refused to create something because its name is taken.

    Docker answers 409 Conflict; Podman 4.3 answers 500 with the reason in words.
    """
    text = str(error.explanation or error).lower()
    return error.status_code == 409 or "already in use" in text or "already exists" in text


def is_podman(client: docker.DockerClient) -> bool:
    """Whether the engine behind the Docker API is Podman."""
    return any(part.get("Name") == "Podman Engine" for part in client.version().get("Components") or [])


@contextlib.contextmanager
def loopback_registry_over_http(client: docker.DockerClient, repository: str) -> Iterator[None]:
    """Let Podman push to a registry on this host's loopback over plain HTTP, as Docker does by itself.

    Docker treats 127.0.0.0/8 registries as insecure without configuration; Podman must be told
    per request (tlsVerify=false), for which docker-py has no argument, so the query parameter rides
    on the client's session for this one call.
    """
    host = repository.split("/", 1)[0].rsplit(":", 1)[0] if "/" in repository else ""
    if host not in ("localhost", "127.0.0.1", "[::1]") or not is_podman(client):
        yield
        return
    session_params = client.api.params
    client.api.params = {**session_params, "tlsVerify": "false"}
    try:
        yield
    finally:
        client.api.params = session_params


_INFO: weakref.WeakKeyDictionary[docker.DockerClient, dict[str, Any]] = weakref.WeakKeyDictionary()


def info(client: docker.DockerClient) -> dict[str, Any]:
    """The engine's `docker info`, asked once per client: the slowest read of a warm `up` (8 ms here),
    and nothing in it that a command needs changes while the command runs."""
    if client not in _INFO:
        _INFO[client] = client.info()
    return _INFO[client]


def engine_arch(client: docker.DockerClient) -> str:
    """The engine's CPU architecture in image terms (amd64, arm64, ...)."""
    arch = str(info(client).get("Architecture", ""))
    return _IMAGE_ARCH.get(arch, arch)


def can_emulate_amd64(client: docker.DockerClient) -> bool:
    """Whether an engine on another architecture runs linux/amd64 images (by emulation)."""
    if engine_arch(client) == "amd64":
        return False  # nothing to emulate: the image is missing for amd64 itself
    if "docker desktop" in str(info(client).get("OperatingSystem", "")).lower():
        return True  # Docker Desktop always ships an amd64 emulator (QEMU, or Rosetta on Apple silicon)
    # A local Linux engine runs what this kernel runs: an x86-64 handler in binfmt_misc
    # (qemu-user-static, Rosetta for Linux) means it can.
    return published_host(client) is None and platform.system() == "Linux" and _binfmt_runs_x86_64()


def _binfmt_runs_x86_64(root: Path = Path("/proc/sys/fs/binfmt_misc")) -> bool:
    try:
        handlers = [p for p in root.iterdir() if p.name not in ("register", "status")]
        return any(
            ("x86_64" in p.name or "x86-64" in p.name or "rosetta" in p.name)
            and p.read_text().startswith("enabled")
            for p in handlers
        )
    except OSError:
        return False


def run_platform(client: docker.DockerClient, image: Image) -> str | None:
    """The platform to create a container of ``image`` with, when it is not the engine's own."""
    wanted = image.attrs.get("Architecture")
    if not wanted or wanted == engine_arch(client):
        return None
    return f"{image.attrs.get('Os') or 'linux'}/{wanted}"


def pull_error(name: str, message: str) -> StackError:
    """Explain a failed pull by its likely cause."""
    lowered = message.lower()
    if NO_IMAGE_FOR_PLATFORM in lowered:
        return StackError(
            f"{name} has no image for this machine ({platform.machine()}): {_first_line(message)}",
            "choose another DB image (e.g. --db-image mariadb:10.11) or " + STANDIN_FIX,
        )
    if any(marker in lowered for marker in REGISTRY_DOWN):
        return StackError(f"cannot pull {name}: no container registry answers", STANDIN_FIX)
    return StackError(
        f"cannot pull {name}: {_first_line(message)}", "check the image name and your registry login"
    )


def context_paths(build: BuildSpec) -> list[str]:
    """The paths (relative, sorted, folders included) the build sends to the engine, by .dockerignore."""
    root = build.context
    ignore = root / ".dockerignore"
    try:
        lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise StackError(
            f"cannot read {ignore}: {reason}",
            "make it a text file of patterns, one per line (or remove it)",
        ) from None
    patterns = [p for p in lines if p and not p.startswith("#")]
    return sorted(exclude_paths(str(root), patterns, dockerfile=build.dockerfile))


def context_hash(build: BuildSpec) -> str:
    """Fingerprint of what the build sends to the engine, so an unchanged app is not rebuilt."""
    root = build.context
    digest = hashlib.sha256(repr(sorted(build.args.items())).encode())
    for relative in context_paths(build):
        path = root / relative
        digest.update(os.fsencode(relative) + b"\0")  # a name need not be UTF-8
        if path.is_symlink():  # the build sends the link, never what it points at (maybe /etc/passwd)
            digest.update(b"-> " + os.fsencode(os.readlink(path)))
        elif path.is_file():
            digest.update(oct(path.stat().st_mode & 0o777).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def current_build(client: docker.DockerClient, build: BuildSpec, fingerprint: str) -> Image | None:
    """The image already built from exactly this context, if there is one."""
    try:
        image = client.images.get(build.tag)
    except ImageNotFound:
        return None
    return image if (image.labels or {}).get(LABEL_CONTEXT_HASH) == fingerprint else None


def build_image(client: docker.DockerClient, build: BuildSpec, fingerprint: str, progress: Progress) -> Image:
    """Build the app image, streaming the engine's output; a failure names the failing step."""
    progress.update("Image", build.tag, "Building")
    labels = {**build.labels, LABEL_CONTEXT_HASH: fingerprint}
    step, recent = "", deque(maxlen=12)
    dockerfile = Path(build.context, build.dockerfile)
    try:
        stream = client.api.build(
            path=str(build.context),
            dockerfile=build.dockerfile,
            tag=build.tag,
            buildargs=dict(build.args),
            labels=labels,
            rm=True,
            forcerm=True,  # no stopped containers left behind by a failed step
            decode=True,
        )
        for chunk in stream:
            for line in chunk.get("stream", "").splitlines():
                if found := BUILD_STEP.match(line):
                    step = f"Step {found[1]} : {found[2]}"
                if line.strip():
                    recent.append(line)
                    progress.echo(f"   {line}")
            if "error" in chunk:
                progress.update("Image", build.tag, "Failed")
                raise StackError(
                    f"building {build.tag} failed at {step or 'the start'}: {build_failure(chunk['error'])}",
                    f"fix the step in {dockerfile} and run the command again",
                    details="\n".join(recent),
                )
    except APIError as error:
        # Refused before any step ran (the stream's first read raises it): a Dockerfile the engine
        # cannot parse, or none at all.
        progress.update("Image", build.tag, "Failed")
        refusal = _first_line(error.explanation or error)
        raise StackError(
            f"building {build.tag} failed before its first step: {refusal}",
            f"fix {dockerfile} and run the command again",
        ) from None
    progress.update("Image", build.tag, "Built")
    return client.images.get(build.tag)


def build_failure(message: str) -> str:
    """Say why a build step failed in the same words on every engine."""
    code = EXIT_CODE.search(message)
    return f"its command exited with code {code[1]}" if code else _first_line(message)


def push_image(
    client: docker.DockerClient, image: str, registry: str, progress: Progress, *, build_it: str
) -> str:
    """Tag ``image`` into ``registry`` (``HOST[:PORT]``) and push it; return the pushed name@digest.

    :param build_it: the command that builds ``image``, for the fix when it does not exist.
    """
    if not REGISTRY.fullmatch(registry):
        raise StackError(f"invalid registry {registry!r}", "give it as HOST:PORT, e.g. 127.0.0.1:5000")
    try:
        local = client.images.get(image)
    except ImageNotFound:
        raise StackError(f"image {image} does not exist", f"build it first: {build_it}") from None
    name, _, tag = image.rpartition("/")[2].partition(":")
    repository, tag = f"{registry}/{name}", tag or "latest"
    target = f"{repository}:{tag}"
    local.tag(repository, tag)
    progress.update("Image", target, "Tagged")
    try:
        digest = _push_layers(client, repository, tag, progress)
    except APIError as error:
        progress.update("Image", target, "Failed")
        # Leave no tag behind that names a registry which does not hold the image.
        with contextlib.suppress(APIError):
            client.images.remove(target, noprune=True)
        raise push_error(registry, str(error.explanation or error)) from None
    progress.update("Image", target, "Pushed")
    return f"{repository}@{digest}"


def _push_layers(client: docker.DockerClient, repository: str, tag: str, progress: Progress) -> str:
    digest, layers = "", {}
    with loopback_registry_over_http(client, repository):
        events = client.api.push(repository, tag=tag, stream=True, decode=True)  # sent here, read below
    for event in events:
        if "error" in event:
            raise APIError(event["error"])
        layer, state = event.get("id"), event.get("status")
        # One line per layer and state: "Pushing" repeats with every chunk, "Preparing" says nothing yet.
        if layer and state in PUSH_STATES and layers.get(layer) != state:
            layers[layer] = state
            progress.update("Layer", layer, state)
        # Docker reports the digest in "aux"; Podman only in its last status line ("TAG: digest: sha256:...").
        pushed = PUSHED_DIGEST.search(str(state or ""))
        digest = (event.get("aux") or {}).get("Digest") or (pushed[1] if pushed else digest)
    if not digest:
        raise APIError("the registry reported no digest")
    return digest


def push_error(registry: str, message: str) -> StackError:
    """Explain a failed push by its likely cause."""
    lowered = message.lower()
    # Docker's words, then Podman's, for a registry that answers plain HTTP to a TLS handshake.
    if "http response to https client" in lowered or "does not look like a tls handshake" in lowered:
        return StackError(
            f"the registry at {registry} speaks plain HTTP, which the engine allows insecure registries only",
            f'add "{registry}" to "insecure-registries" in /etc/docker/daemon.json (127.0.0.0/8 always is) '
            "or serve the registry over TLS",
        )
    if any(marker in lowered for marker in REGISTRY_DOWN):
        return StackError(f"no registry answers at {registry}", "start it, or check --registry HOST:PORT")
    if any(marker in lowered for marker in ("unauthorized", "authentication required", "denied")):
        return StackError(
            f"the registry at {registry} refused the push", f"log in first: docker login {registry}"
        )
    return StackError(f"pushing to {registry} failed: {_first_line(message)}", "check the registry's logs")


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
