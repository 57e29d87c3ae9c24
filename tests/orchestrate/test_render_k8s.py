"""`export k8s`: manifests valid against Kubernetes 1.30's schemas, credentials only in the Secret.

The schemas come offline with kubernetes-validate; strict mode also refuses fields the API does
not know. Nothing here is applied to a cluster.
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest
import yaml

from stack.render.k8s import export, manifests, secret_name

from .conftest import REPO, ROOT_PASSWORD, USER_PASSWORD, MakeSpec

pytestmark = pytest.mark.unit

KUBERNETES = "1.30.0"


def by_kind(documents: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}


def container(workload: dict[str, Any]) -> dict[str, Any]:
    (only,) = workload["spec"]["template"]["spec"]["containers"]
    return only


def test_every_manifest_is_valid_for_the_pinned_kubernetes(make_spec: MakeSpec) -> None:
    documents = list(yaml.safe_load_all(export(make_spec(), replicas=3)))
    assert [doc["kind"] for doc in documents] == [
        "Secret", "ConfigMap", "Service", "StatefulSet", "Service", "Deployment"
    ]  # fmt: skip
    for document in documents:
        assert kubernetes_validate.validate(document, KUBERNETES, strict=True) == "1.30"


def test_the_validator_does_refuse_a_wrong_manifest(make_spec: MakeSpec) -> None:
    deployment = manifests(make_spec())[-1]
    container(deployment)["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_passwords_are_only_in_the_secret_and_read_from_it_by_reference(make_spec: MakeSpec) -> None:
    spec = make_spec()
    documents = manifests(spec)
    secret, others = documents[0], documents[1:]
    assert secret["kind"] == "Secret"
    assert secret["stringData"] == {"MYSQL_ROOT_PASSWORD": ROOT_PASSWORD, "MYSQL_PASSWORD": USER_PASSWORD}
    text = json.dumps(others)
    assert ROOT_PASSWORD not in text and json.dumps(USER_PASSWORD)[1:-1] not in text
    workloads = [doc for doc in others if doc["kind"] in ("StatefulSet", "Deployment")]
    for workload in workloads:
        for variable in container(workload)["env"]:
            if "PASSWORD" in variable["name"]:
                ref = variable["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret_name(spec) and ref["key"] in secret["stringData"]


def test_selectors_match_the_labels_of_the_pods_they_select(make_spec: MakeSpec) -> None:
    documents = by_kind(manifests(make_spec()))
    pods = {
        name: doc["spec"]["template"]["metadata"]["labels"]
        for (kind, name), doc in documents.items()
        if kind in ("StatefulSet", "Deployment")
    }
    for (kind, name), doc in documents.items():
        if kind in ("StatefulSet", "Deployment"):
            assert doc["spec"]["selector"]["matchLabels"].items() <= pods[name].items()
    services = {name: doc for (kind, name), doc in documents.items() if kind == "Service"}
    assert services["mysql"]["spec"]["selector"].items() <= pods["mysql"].items()
    assert services["apl-app"]["spec"]["selector"].items() <= pods["apl-app"].items()
    assert documents[("StatefulSet", "mysql")]["spec"]["serviceName"] == "mysql"


def test_the_app_deployment(make_spec: MakeSpec) -> None:
    documents = by_kind(manifests(make_spec(port=9090), replicas=3))
    deployment = documents[("Deployment", "apl-app")]
    app = container(deployment)
    assert deployment["spec"]["replicas"] == 3
    host = [{"name": "Host", "value": "localhost"}]  # not the pod IP the kubelet would send
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 80, "httpHeaders": host}
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 80, "httpHeaders": host}
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] == 10001
    assert app["securityContext"]["allowPrivilegeEscalation"] is False
    assert set(app["resources"]) == {"requests", "limits"}
    assert {"name": "MYSQL_HOST", "value": "mysql"} in app["env"]
    assert documents[("Service", "apl-app")]["spec"]["ports"] == [{"port": 9090, "targetPort": 80}]


def test_mysql_keeps_its_data_in_a_claim_and_runs_the_init_sql(make_spec: MakeSpec) -> None:
    documents = by_kind(manifests(make_spec()))
    statefulset = documents[("StatefulSet", "mysql")]
    db = container(statefulset)
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    mounts = {mount["mountPath"]: mount for mount in db["volumeMounts"]}
    assert mounts["/var/lib/mysql"]["name"] == claim["metadata"]["name"]
    assert mounts["/docker-entrypoint-initdb.d"]["readOnly"] is True
    (volume,) = statefulset["spec"]["template"]["spec"]["volumes"]
    config_map = documents[("ConfigMap", volume["configMap"]["name"])]
    assert config_map["data"] == {"001-schema.sql": (REPO / "db" / "001-schema.sql").read_text()}
    assert "SELECT 1" in db["readinessProbe"]["exec"]["command"][-1]
    assert db["startupProbe"]["failureThreshold"] > db["readinessProbe"]["failureThreshold"]
    assert documents[("Service", "mysql")]["spec"]["clusterIP"] == "None"


def test_a_changed_setting_or_image_shows_in_the_manifests(make_spec: MakeSpec) -> None:
    spec = make_spec(db_image="mariadb:10.11").with_app_image("127.0.0.1:5000/apl-app@sha256:" + "0" * 64)
    documents = by_kind(manifests(spec))
    assert container(documents[("StatefulSet", "mysql")])["image"] == "mariadb:10.11"
    assert container(documents[("Deployment", "apl-app")])["image"].startswith("127.0.0.1:5000/apl-app@")
