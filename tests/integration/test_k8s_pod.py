"""The app Deployment's pod restrictions, applied by Docker: the image still starts and answers.

No cluster runs here; this is the closest check that the exported security context (non-root
user, read-only root file system with an emptyDir at /tmp, no capabilities, no privilege
escalation, the port sysctl) and the CPU-derived worker count suit the app's image.
"""

from __future__ import annotations

import os
from typing import Any

import docker
import pytest
import requests

from stack.ports import free_port
from stack.render.k8s import manifests
from stack.settings import read_settings
from stack.spec import LABEL_PROJECT, LABEL_ROLE, build_spec
from stack.waiting import wait_for

from .support import Orchestrate

pytestmark = pytest.mark.integration


def docker_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as a pod would see it: secrets as placeholders, 1 CPU as the limit."""
    env = {}
    for variable in container["env"]:
        source = variable.get("valueFrom", {})
        env[variable["name"]] = variable.get("value") or (
            "1" if "resourceFieldRef" in source else "placeholder"
        )
    return env


def test_the_app_serves_under_the_deployments_security_context(
    orchestrate: Orchestrate, project: str, docker_client: docker.DockerClient
) -> None:
    built = orchestrate("--project", project, "build")
    assert built.returncode == 0, built.stderr
    spec = build_spec(read_settings(os.environ, project=project))
    (deployment,) = [doc for doc in manifests(spec) if doc["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    pod_context, context = pod["securityContext"], container["securityContext"]
    port, (container_port,) = free_port(), [p["containerPort"] for p in container["ports"]]

    docker_client.containers.run(
        container["image"],
        detach=True,
        name=f"{project}-pod",
        labels={LABEL_PROJECT: project, LABEL_ROLE: "pod"},  # removed with the project
        user=f"{pod_context['runAsUser']}:{pod_context['runAsGroup']}",
        read_only=context["readOnlyRootFilesystem"],
        tmpfs={mount["mountPath"]: "" for mount in container["volumeMounts"]},  # the emptyDirs
        cap_drop=context["capabilities"]["drop"],
        security_opt=[] if context["allowPrivilegeEscalation"] else ["no-new-privileges"],
        sysctls={sysctl["name"]: sysctl["value"] for sysctl in pod_context["sysctls"]},
        environment=docker_env(container),
        ports={f"{container_port}/tcp": ("127.0.0.1", port)},
    )
    probe = container["livenessProbe"]["httpGet"]
    # As the kubelet sends it: the pod's IP as Host, unless the probe names one in httpHeaders.
    headers = {"Host": "10.244.0.7"} | {h["name"]: h["value"] for h in probe.get("httpHeaders", [])}

    def alive() -> bool:
        response = requests.get(f"http://127.0.0.1:{port}{probe['path']}", headers=headers, timeout=2)
        return response.status_code == 200

    wait_for(alive, timeout=30, interval=0.2, transient=(requests.RequestException,))
    logs = docker_client.containers.get(f"{project}-pod").logs().decode()
    assert logs.count("Booting worker") == 1  # GUNICORN_WORKERS from the 1-CPU limit, not the host's count
