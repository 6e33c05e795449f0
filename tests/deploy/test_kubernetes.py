"""The Kubernetes manifests (deploy/kubernetes): valid for the API server, hardened, wired to each other,
and exposing only the public channels."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml

from tests.deploy.files import (
    KUBERNETES,
    ROOT,
    containers,
    env_file_names,
    kinds,
    load_manifests,
    manifest_files,
    pod_spec,
    without_test_keys,
)

# The oldest Kubernetes release the manifests promise to work on, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.31", kubernetes_validate.utils.latest_version())
SECRET_NAME = "nordnet-secrets"
CONFIG_NAME = "nordnet-config"

# Secrets each workload must receive (and no other workload needs): least privilege, but complete.
SECRETS_NEEDED = {
    "rasa": {
        "RASA_TOKEN",
        "ACTION_SERVER_TOKEN",
        "WIDGET_SESSION_SECRET",
        "TRACKER_STORE_URL",
        "LOCK_STORE_URL",
        "SOCKETIO_MESSAGE_QUEUE",
        "FB_VERIFY_TOKEN",
        "FB_APP_SECRET",
        "FB_PAGE_ACCESS_TOKEN",
    },
    "actions": {"ACTION_SERVER_TOKEN", "HANDOFF_API_TOKEN"},
    "handoff": {"SECRET_KEY", "HANDOFF_API_TOKEN", "RASA_TOKEN", "DATABASE_URL", "TRACKER_STORE_URL"},
    "handoff-migrate": {"SECRET_KEY", "HANDOFF_API_TOKEN", "DATABASE_URL", "HANDOFF_ADMIN_PASSWORD"},
}


def workloads(documents: list[dict]) -> list[dict]:
    return kinds(documents, "Deployment") + kinds(documents, "Job")


def secret_keys() -> list[str]:
    return env_file_names(KUBERNETES / "secrets.env.example")


def generated_secret() -> dict:
    """The Secret kustomize's secretGenerator makes from secrets.env (here: from the example's keys)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": SECRET_NAME, "namespace": "nordnet"},
        "stringData": {key: "x" * 40 for key in secret_keys()},
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schema(version):
    documents = [without_test_keys(d) for d in load_manifests()] + [generated_secret()]
    assert len(documents) >= 15
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{document['kind']}/{document['metadata']['name']} ({version}): {path}: {exc.message}")


def test_kustomization_lists_every_manifest_and_generates_the_secret():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in manifest_files())
    generators = {g["name"]: g for g in kustomization["secretGenerator"]}
    assert generators[SECRET_NAME]["envs"] == ["secrets.env"]
    # The real file is never committed; its example is.
    assert "secrets.env" in (KUBERNETES / ".gitignore").read_text().split()
    assert (KUBERNETES / "secrets.env.example").is_file()
    images = {image["name"] for image in kustomization["images"]}
    used = {c["image"].split(":")[0] for w in workloads(load_manifests()) for c in containers(w)}
    assert used == images


def test_every_pod_runs_non_root_read_only_without_privileges():
    for workload in workloads(load_manifests()):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(workload):
            where = f"{name}/{container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert "memory" in resources["limits"], where
            assert re.fullmatch(r"nordnet-(rasa|actions|handoff):\d+\.\d+\.\d+", container["image"]), where


def test_every_deployment_has_readiness_and_liveness_probes_on_its_own_ports():
    deployments = kinds(load_manifests(), "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {"rasa", "actions", "handoff"}
    for deployment in deployments:
        for container in containers(deployment, init=False):
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            for kind in ("readinessProbe", "livenessProbe"):
                probe = container[kind]
                action = probe.get("httpGet") or probe.get("tcpSocket")
                assert action["port"] in ports or action["port"] in ports.values(), (
                    deployment["metadata"]["name"],
                    kind,
                )
    paths = {d["metadata"]["name"]: containers(d)[0]["readinessProbe"]["httpGet"]["path"] for d in deployments}
    assert paths == {"rasa": "/", "actions": "/ready", "handoff": "/health"}  # /ready: 503 until warm


def test_services_hpas_and_budgets_select_real_pods():
    documents = load_manifests()
    labels = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in kinds(documents, "Deployment")
    }

    def selects(selector: dict) -> set[str]:
        return {name for name, pod in labels.items() if selector.items() <= pod.items()}

    for service in kinds(documents, "Service"):
        name = service["metadata"]["name"]
        assert selects(service["spec"]["selector"]) == {name}
        port_names = {
            p["name"]
            for c in containers(
                next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
            )
            for p in c.get("ports", [])
        }
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in kinds(documents, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"rasa", "actions"}
    assert all(h["spec"]["minReplicas"] >= 2 for h in hpas.values())
    budgets = kinds(documents, "PodDisruptionBudget")
    assert {frozenset(selects(b["spec"]["selector"]["matchLabels"])) for b in budgets} == {
        frozenset({"rasa"}),
        frozenset({"actions"}),
        frozenset({"handoff"}),
    }


def test_each_workload_gets_the_secrets_it_needs_from_the_one_secret():
    keys = set(secret_keys())
    for workload in workloads(load_manifests()):
        name = workload["metadata"]["name"]
        received = set()
        for container in containers(workload, init=False):
            for source in container.get("envFrom", []):
                assert source == {"configMapRef": {"name": CONFIG_NAME}}, name
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == SECRET_NAME and ref["key"] in keys, (name, variable)
                    assert ref["key"] == variable["name"], (name, variable)
                    received.add(ref["key"])
        assert SECRETS_NEEDED[name] <= received, (name, SECRETS_NEEDED[name] - received)


def test_the_migration_job_runs_the_handoff_migrations():
    (job,) = kinds(load_manifests(), "Job")
    (container,) = containers(job)
    assert container["image"].startswith("nordnet-handoff:")
    assert container["command"] == ["nordnet-migrate"]
    assert pod_spec(job)["restartPolicy"] in ("OnFailure", "Never")
    dockerfile = (ROOT / "deploy" / "app.Dockerfile").read_text()
    assert "COPY deploy/app/migrate.sh /usr/local/bin/nordnet-migrate" in dockerfile


# --------------------------------------------------------------------------- what the Ingress exposes


def ingress_routes() -> list[tuple[str, str, str, dict]]:
    """(path, pathType, service, annotations) of every Ingress rule."""
    routes = []
    for ingress in kinds(load_manifests(), "Ingress"):
        annotations = ingress["metadata"].get("annotations", {})
        assert ingress["spec"]["ingressClassName"] == "nginx"
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes.append((path["path"], path["pathType"], path["backend"]["service"]["name"], annotations))
    return routes


def route(request_path: str) -> tuple[str, dict] | None:
    """The service a request path reaches, by the Ingress API's matching rules (longest match wins)."""
    path = request_path.split("?")[0]
    best = None
    for rule_path, path_type, service, rule_annotations in ingress_routes():
        if path_type == "Exact":
            matched = path == rule_path
        else:  # Prefix: element by element, a trailing slash ignored
            prefix = [p for p in rule_path.split("/") if p]
            matched = [p for p in path.split("/") if p][: len(prefix)] == prefix
        if matched and (best is None or len(rule_path) > len(best[0])):
            best = (rule_path, service, rule_annotations)
    return (best[1], best[2]) if best else None


@pytest.mark.parametrize(
    "path, service",
    [
        ("/socket.io/?EIO=4&transport=polling", "rasa"),
        ("/webhooks/rest/webhook", "rasa"),
        ("/webhooks/facebook/webhook", "rasa"),
        ("/", "handoff"),
        ("/?lang=de", "handoff"),
        ("/static/web/webchat/webchat.js", "handoff"),
        ("/agent/", "handoff"),
        ("/agent/login", "handoff"),
        ("/agent/static/console.js", "handoff"),
        ("/agent/admin/insights/", "handoff"),
    ],
)
def test_the_public_channels_are_routed(path, service):
    assert route(path) is not None and route(path)[0] == service


@pytest.mark.parametrize(
    "path",
    [
        "/api/escalations",
        "/api/faq/changes",
        "/api/insights/report",  # the handoff bot API and admin JSON
        "/conversations/u1/tracker",
        "/conversations/u1/trigger_intent",
        "/model/parse",
        "/status",
        "/version",  # Rasa API
        "/webhook",
        "/health",
        "/actions",  # the action server, health checks
    ],
)
def test_internal_apis_are_not_routed(path):
    assert route(path) is None


def test_socketio_is_sticky_per_browser_and_keeps_websockets_open():
    service, annotations = route("/socket.io/")
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert annotations["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 25  # socket.io's ping interval
    # REST messages are spread round robin: no affinity there.
    assert "nginx.ingress.kubernetes.io/affinity" not in route("/webhooks/rest/webhook")[1]


def test_every_public_page_of_the_handoff_service_is_routed_and_nothing_else(tmp_path, monkeypatch):
    """Against the real Flask app's URL map: a page added later is either routed or deliberately internal."""
    from handoff.app import create_app
    from handoff.settings import Settings

    monkeypatch.setenv("FAQ_PATH", str(ROOT / "data" / "faq"))
    app = create_app(Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}))
    for rule in app.url_map.iter_rules():
        sample = re.sub(r"<[^>]+>", "x", rule.rule)
        internal = rule.rule.startswith("/api/") or rule.rule == "/health"
        reached = route(sample)
        if internal:
            assert reached is None, rule.rule
        else:
            assert reached is not None and reached[0] == "handoff", rule.rule


# --------------------------------------------------------------------------- who may talk to whom


def allowed_sources(documents: list[dict], target: str) -> list[dict]:
    """The `from` peers of every NetworkPolicy selecting the pods of `target`."""
    pod_labels = next(d for d in kinds(documents, "Deployment") if d["metadata"]["name"] == target)["spec"]["template"][
        "metadata"
    ]["labels"]
    peers = []
    for policy in kinds(documents, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if selector.items() <= pod_labels.items():
            for rule in policy["spec"].get("ingress", []):
                peers.extend(rule["from"])
    return peers


def test_network_policies_deny_by_default_and_open_only_the_paths_between_services():
    documents = load_manifests()
    default = [p for p in kinds(documents, "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert (
        len(default) == 1 and default[0]["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in default[0]["spec"]
    )
    ingress_controller = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}

    def pods(name: str) -> dict:
        return {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}

    assert allowed_sources(documents, "actions") == [pods("rasa")]
    assert sorted(map(str, allowed_sources(documents, "rasa"))) == sorted(
        map(str, [ingress_controller, pods("handoff")])
    )
    assert sorted(map(str, allowed_sources(documents, "handoff"))) == sorted(
        map(str, [ingress_controller, pods("actions")])
    )


def test_the_handoff_pods_publish_faq_entries_into_a_writable_copy():
    (handoff,) = [d for d in kinds(load_manifests(), "Deployment") if d["metadata"]["name"] == "handoff"]
    (copy,) = pod_spec(handoff)["initContainers"]
    (server,) = containers(handoff, init=False)
    env = {v["name"]: v.get("value") for v in server["env"]}
    script = " ".join(copy["command"])
    volumes = {v["name"] for v in pod_spec(handoff)["volumes"] if "emptyDir" in v}
    copy_mounts = {m["mountPath"]: m["name"] for m in copy["volumeMounts"]}
    server_mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    for variable, image_path in (("FAQ_PATH", "/app/data/faq"), ("KB_INDEX_DIR", "/app/kb_index")):
        target = env[variable]
        assert f"cp -R {image_path} {target}" in script
        mount = next(path for path in server_mounts if target.startswith(path + "/"))
        assert copy_mounts[mount] == server_mounts[mount] and server_mounts[mount] in volumes
    assert copy["image"] == server["image"]


def test_the_handoff_pods_faq_copy_runs_and_runs_again(tmp_path):
    """The init container's shell command on a stand-in file system: copies once, and a second run keeps the copy."""
    import shutil
    import subprocess

    (handoff,) = [d for d in kinds(load_manifests(), "Deployment") if d["metadata"]["name"] == "handoff"]
    command = pod_spec(handoff)["initContainers"][0]["command"]
    (tmp_path / "app" / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "faq", tmp_path / "app" / "data" / "faq")
    (tmp_path / "app" / "kb_index").mkdir()
    (tmp_path / "app" / "kb_index" / "manifest.json").write_text("{}")
    (tmp_path / "lib").mkdir()
    script = command[2].replace("/var/lib/nordnet", str(tmp_path / "lib")).replace("/app/", f"{tmp_path}/app/")
    assert command[:2] == ["sh", "-c"]
    subprocess.run(["sh", "-c", script], check=True, timeout=30)
    published = tmp_path / "lib" / "faq" / "published.yml"
    published.write_text("entries: []\n")  # what the console wrote since
    subprocess.run(["sh", "-c", script], check=True, timeout=30)
    assert sorted(p.name for p in (tmp_path / "lib" / "faq").iterdir()) == sorted(
        [p.name for p in (ROOT / "data" / "faq").iterdir()] + ["published.yml"]
    )
    assert (tmp_path / "lib" / "kb_index" / "manifest.json").is_file()
    assert not (tmp_path / "lib" / "faq" / "faq").exists()
