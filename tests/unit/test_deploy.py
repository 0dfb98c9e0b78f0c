"""The deployment files (deploy/) agree with the app's settings and routes, and with each other."""

from __future__ import annotations

import base64
import copy
import os
import re
import shlex
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes import client as k8s
from pydantic import ValidationError

from app.core.settings import Settings
from app.main import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s"
SETTINGS = {f"VOC_{name.upper()}" for name in Settings.model_fields}
ANY_ADDRESS = {"0.0.0.0", "::"}

Doc = dict[str, Any]


def settings_from(env: Mapping[str, str], where: str) -> Settings:
    """`Settings` as a process with exactly `env` would read them (no .env file)."""
    unknown = sorted(k for k in env if k.startswith("VOC_") and k not in SETTINGS)
    assert not unknown, f"{where}: not settings (silently ignored by the app): {unknown}"
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("VOC_")]:
            patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        try:
            return Settings(_env_file=None)
        except ValidationError as exc:
            pytest.fail(f"{where}: invalid settings: {exc}")


@cache
def app_get_routes() -> frozenset[str]:
    """Paths the app answers GET on, from the app built but never started (no services)."""
    schema = create_app(settings_from({}, "defaults")).openapi()
    return frozenset(path for path, operations in schema["paths"].items() if "get" in operations)


def http_url_in(command: list[str] | str) -> tuple[int, str]:
    text = command if isinstance(command, str) else " ".join(command)
    found = re.search(r"http://[^/'\"\s]+:(\d+)(/[^'\"\s]*)", text)
    assert found, f"no http://host:port/path in {text!r}"
    return int(found.group(1)), found.group(2)


def dockerfile_final_stage() -> list[str]:
    """Instructions of the last stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    last_from = max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM "))
    return lines[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in dockerfile_final_stage():
        if line.upper().startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def test_image_runs_as_a_numeric_non_root_user() -> None:
    users = [ln.split()[1] for ln in dockerfile_final_stage() if ln.upper().startswith("USER ")]
    assert users, "the image runs as root"
    uid = users[-1].split(":")[0]
    # Kubernetes' runAsNonRoot can only check a numeric user.
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}"


def test_image_serves_the_page_from_where_it_copies_it() -> None:
    # The package is installed without frontend/: the app finds the page only through this.
    copies = [ln.split() for ln in dockerfile_final_stage() if ln.upper().startswith("COPY ")]
    destination = next(parts[-1] for parts in copies if parts[-2].rstrip("/") == "frontend")
    assert image_env().get("VOC_FRONTEND_DIR") == destination
    settings_from(image_env(), "deploy/Dockerfile ENV")


def interpolate(value: object, where: str) -> str:
    """Compose's `${NAME:-default}` with the default, as `up` sees it with NAME unset."""

    def default(found: re.Match[str]) -> str:
        if found.group(2) is None:
            pytest.fail(f"{where}: ${{{found.group(1)}}} has no default; `up` would need it set")
        return found.group(2)

    return re.sub(r"\$\{(\w+)(?::?-([^}]*))?\}", default, str(value))


@cache
def compose() -> Doc:
    loaded: Doc = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services() -> dict[str, Doc]:
    found: dict[str, Doc] = compose()["services"]
    return found


def service_env(name: str) -> dict[str, str]:
    """The environment a service's process gets: the image's ENV, then the compose file's."""
    service = services()[name]
    env = image_env() if "build" in service else {}
    declared = service.get("environment", {})
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) for item in declared)
    env.update({k: interpolate(v, f"{name}.{k}") for k, v in declared.items()})
    return env


def service_settings(name: str) -> Settings:
    return settings_from(service_env(name), f"compose service {name}")


def app_services() -> list[str]:
    return [n for n, s in services().items() if any(k.startswith("VOC_") for k in service_env(n))]


def depends_on(name: str) -> dict[str, str]:
    declared = services()[name].get("depends_on", {})
    if isinstance(declared, list):
        return dict.fromkeys(declared, "service_started")
    return {target: spec.get("condition", "service_started") for target, spec in declared.items()}


def replicas(name: str) -> int:
    count: int = services()[name].get("deploy", {}).get("replicas", 1)
    return count


def test_compose_sets_only_real_settings_with_valid_values() -> None:
    assert set(app_services()) >= {"api", "worker", "migrate"}
    for name in app_services():
        service_settings(name)


def test_compose_app_services_build_the_image_from_deploy_dockerfile() -> None:
    commands = {}
    for name in app_services():
        build = services()[name]["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        commands[name] = services()[name]["command"]
    assert commands == {
        "api": ["voc", "api"],
        "worker": ["voc", "worker"],
        "migrate": ["voc", "migrate"],
    }


def test_depends_on_names_services_and_waits_for_what_they_offer() -> None:
    for name in services():
        for target, condition in depends_on(name).items():
            assert target in services(), f"{name} depends on unknown service {target}"
            if condition == "service_healthy":
                assert "healthcheck" in services()[target], f"{target} has no healthcheck"
            elif condition == "service_completed_successfully":
                # A one-shot job restarted after success would never count as completed.
                assert services()[target].get("restart", "no") == "no", target
            else:
                pytest.fail(f"{name} starts without waiting for {target} ({condition})")


def test_broker_redis_and_database_urls_name_services_on_the_ports_they_listen_on() -> None:
    kafka = service_env("kafka")
    postgres = service_env("postgres")
    for name in ("api", "worker", "migrate"):
        settings = service_settings(name)
        waits_for = depends_on(name)

        host, _, port = settings.kafka_bootstrap.partition(":")
        assert f"PLAINTEXT://{host}:{port}" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert f"PLAINTEXT://:{port}" in kafka["KAFKA_LISTENERS"].split(",")

        database = urlsplit(settings.database_url)
        assert database.scheme == "postgresql+psycopg"
        assert (database.hostname, database.port) == ("postgres", 5432)
        assert database.username == postgres["POSTGRES_USER"]
        assert database.password == postgres["POSTGRES_PASSWORD"]
        assert database.path.lstrip("/") == postgres["POSTGRES_DB"]
        assert waits_for.get("postgres") == "service_healthy"

        if name == "migrate":
            continue
        assert waits_for.get(host) == "service_healthy", f"{name} starts before {host}"
        assert settings.redis_url is not None, f"{name}: VOC_REDIS_URL"
        redis = urlsplit(settings.redis_url)
        assert redis.hostname in services() and services()[redis.hostname]["image"] == "redis:7"
        assert redis.port == 6379 and "--port" not in services()[redis.hostname]["command"]
        assert waits_for.get(redis.hostname) == "service_healthy"


def test_kafka_is_one_kraft_node_whose_internal_topics_fit_on_it() -> None:
    kafka = service_env("kafka")
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    voter = re.fullmatch(r"(\d+)@([\w-]+):(\d+)", kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"])
    assert voter and voter.group(1) == kafka["KAFKA_NODE_ID"] and voter.group(2) == "kafka"
    assert f"CONTROLLER://:{voter.group(3)}" in kafka["KAFKA_LISTENERS"].split(",")
    # With more replicas than brokers, __consumer_offsets is never created: no group can commit.
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        assert kafka[key] == "1", key
    volume = services()["kafka"]["volumes"][0].split(":")
    assert volume[0] in compose()["volumes"] and volume[1] == kafka["KAFKA_LOG_DIRS"]
    healthcheck = " ".join(services()["kafka"]["healthcheck"]["test"])
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in healthcheck


def test_topics_service_creates_the_topics_the_app_uses_with_a_longer_dlq_retention() -> None:
    settings = service_settings("worker")
    script = services()["topics"]["command"][-1]
    created = {
        m.group(1): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(
            r"--topic (\S+) --partitions (\d+) .*?retention\.ms=(\d+)", script, re.DOTALL
        )
    }
    assert set(created) == {settings.responses_topic, settings.dlq_topic}
    partitions, retention = created[settings.responses_topic]
    assert partitions == settings.topic_partitions
    assert created[settings.dlq_topic][1] > retention, "dead letters wait for a replay"
    assert depends_on("worker")["topics"] == "service_completed_successfully"
    # Each partition is consumed by one worker of the group: more workers would idle.
    assert replicas("worker") <= partitions


def test_several_api_instances_share_redis_and_leave_ingest_and_migrations_out() -> None:
    assert replicas("api") >= 2
    api = service_settings("api")
    assert api.redis_url is not None
    assert api.embedded_workers == 0
    assert not api.migrate_on_start and not service_settings("worker").migrate_on_start
    for name in ("api", "worker"):
        assert depends_on(name)["migrate"] == "service_completed_successfully"


def test_compose_healthchecks_probe_real_endpoints_on_the_ports_served() -> None:
    api = service_settings("api")
    port, path = http_url_in(services()["api"]["healthcheck"]["test"])
    assert path == "/readyz" and path in app_get_routes()
    assert port == api.port and api.host in ANY_ADDRESS
    published = [str(p).rsplit(":", 1) for p in services()["api"]["ports"]]
    assert [int(inside) for _, inside in published] == [api.port]
    first, _, last = published[0][0].partition("-")
    assert int(last or first) - int(first) + 1 >= replicas("api"), "replicas share host ports"

    worker = service_settings("worker")
    port, _ = http_url_in(services()["worker"]["healthcheck"]["test"])
    assert port == worker.worker_metrics_port and worker.host in ANY_ADDRESS


@cache
def manifests() -> tuple[tuple[str, Doc], ...]:
    return tuple(
        (f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    )


def objects(kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def schema_errors(doc: Doc) -> list[str]:
    """What the Kubernetes API would refuse or drop: wrong types, missing or unknown fields."""
    version = doc["apiVersion"].rsplit("/", 1)[-1]
    model = getattr(k8s.models, version.capitalize() + doc["kind"], None)
    if model is None:
        return [f"no {doc['apiVersion']} {doc['kind']} in the kubernetes client's models"]
    try:
        parsed = model.from_dict(doc)
    except ValidationError as exc:
        return [str(exc)]
    # Unknown keys are dropped silently: compare what survives with what was written.
    return list(dropped(doc, k8s.ApiClient().sanitize_for_serialization(parsed)))


def dropped(given: object, kept: object, path: str = "") -> Iterator[str]:
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield f"unknown field {path}{key}"
            else:
                yield from dropped(value, kept[key], f"{path}{key}.")
    elif isinstance(given, list) and isinstance(kept, list) and len(given) == len(kept):
        for i, (g, k) in enumerate(zip(given, kept, strict=True)):
            yield from dropped(g, k, f"{path.rstrip('.')}[{i}].")
    elif given != kept:
        yield f"{path.rstrip('.')}: {given!r} read as {kept!r}"


@pytest.mark.parametrize("doc", [d for _, d in manifests()], ids=[n for n, _ in manifests()])
def test_k8s_object_matches_the_kubernetes_api_schema(doc: Doc) -> None:
    assert schema_errors(doc) == []


def test_schema_check_catches_a_misspelt_field_and_a_wrong_type() -> None:
    api = objects("Deployment")["voc-api"]
    misspelt = copy.deepcopy(api)
    container = misspelt["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    assert schema_errors(misspelt) == [
        "unknown field spec.template.spec.containers[0].readinesProbe"
    ]
    wrong_type = copy.deepcopy(api)
    wrong_type["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8000"
    assert schema_errors(wrong_type)


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def workloads() -> dict[str, Doc]:
    return {**objects("Deployment"), **objects("Job")}


def container_env(container: Doc, where: str) -> dict[str, str]:
    """The image's ENV, then envFrom (ConfigMaps, Secrets of config.yaml), then env."""
    config_maps = {n: d.get("data", {}) for n, d in objects("ConfigMap").items()}
    secrets = {
        name: {
            **{k: base64.b64decode(v).decode() for k, v in doc.get("data", {}).items()},
            **doc.get("stringData", {}),
        }
        for name, doc in objects("Secret").items()
    }
    sources = {"configMap": config_maps, "secret": secrets}
    env = image_env()
    for source in container.get("envFrom", []):
        (ref_kind, ref), *_ = source.items()
        found = sources[ref_kind.removesuffix("Ref")].get(ref["name"])
        assert found is not None, f"{where}: {ref_kind} {ref['name']} is not in deploy/k8s"
        env.update(found)
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            (ref_kind, ref), *_ = item["valueFrom"].items()
            env[item["name"]] = sources[ref_kind.removesuffix("KeyRef")][ref["name"]][ref["key"]]
    return env


def container_settings(workload: str) -> Settings:
    container = pod_spec(workloads()[workload])["containers"][0]
    return settings_from(container_env(container, workload), f"k8s {workload}")


def probe_port(container: Doc, probe: str) -> tuple[int, str]:
    get = container[probe]["httpGet"]
    port = get["port"]
    if isinstance(port, str):
        port = next(p["containerPort"] for p in container["ports"] if p.get("name") == port)
    return port, get["path"]


def test_k8s_workloads_set_only_real_settings_with_valid_values() -> None:
    assert set(workloads()) == {"voc-api", "voc-worker", "voc-migrate"}
    for name in workloads():
        settings = container_settings(name)
        assert not settings.migrate_on_start, f"{name}: instances must not race to migrate"


def test_k8s_workloads_run_one_image_as_non_root_with_a_voc_command() -> None:
    containers = {n: pod_spec(w)["containers"] for n, w in workloads().items()}
    assert all(len(c) == 1 for c in containers.values())
    assert len({c[0]["image"] for c in containers.values()}) == 1
    assert {n: c[0]["command"] for n, c in containers.items()} == {
        "voc-api": ["voc", "api"],
        "voc-worker": ["voc", "worker"],
        "voc-migrate": ["voc", "migrate"],
    }
    for workload in workloads().values():
        assert pod_spec(workload)["securityContext"]["runAsNonRoot"] is True


def test_every_container_requests_and_limits_cpu_and_memory() -> None:
    for name, workload in workloads().items():
        for container in pod_spec(workload)["containers"]:
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources.get(bound, {})) >= {"cpu", "memory"}, f"{name} {bound}"


def test_api_probes_hit_real_routes_on_the_port_the_app_listens_on() -> None:
    container = pod_spec(objects("Deployment")["voc-api"])["containers"][0]
    settings = container_settings("voc-api")
    assert settings.host in ANY_ADDRESS, "the kubelet probes the pod's address"
    expected = {
        "readinessProbe": "/readyz",
        "livenessProbe": "/healthz",
        "startupProbe": "/healthz",
    }
    for probe, path in expected.items():
        assert probe_port(container, probe) == (settings.port, path)
        assert path in app_get_routes()


def test_api_pods_share_events_through_redis_and_leave_ingest_to_workers() -> None:
    settings = container_settings("voc-api")
    assert settings.redis_url is not None
    # Embedded workers would make the consumer count follow the HPA's CPU decisions.
    assert settings.embedded_workers == 0


def test_worker_probes_its_metrics_port_and_has_a_partition_each() -> None:
    worker = objects("Deployment")["voc-worker"]
    container = pod_spec(worker)["containers"][0]
    settings = container_settings("voc-worker")
    assert settings.redis_url is not None, "`voc worker` exits without VOC_REDIS_URL"
    assert settings.host in ANY_ADDRESS
    for probe in ("readinessProbe", "livenessProbe"):
        assert probe_port(container, probe)[0] == settings.worker_metrics_port
    assert worker["spec"]["replicas"] <= settings.topic_partitions


def test_deployment_selectors_match_their_pod_labels() -> None:
    for name, deployment in objects("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items(), name


def test_service_selects_only_the_api_pods_on_their_http_port() -> None:
    service = objects("Service")["voc-api"]
    selector = service["spec"]["selector"].items()
    pods = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in workloads().items()}
    assert [n for n, labels in pods.items() if selector <= labels.items()] == ["voc-api"]
    container = pod_spec(objects("Deployment")["voc-api"])["containers"][0]
    (target,) = [p["targetPort"] for p in service["spec"]["ports"]]
    named = {p.get("name"): p["containerPort"] for p in container["ports"]}
    assert named.get(target, target) == container_settings("voc-api").port


def test_hpa_scales_the_api_deployment_on_cpu() -> None:
    (hpa,) = objects("HorizontalPodAutoscaler").values()
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    api = objects("Deployment")[target["name"]]
    assert pod_spec(api)["containers"][0]["command"] == ["voc", "api"]
    # Otherwise every `kubectl apply` resets the count the HPA chose.
    assert "replicas" not in api["spec"]
    (metric,) = hpa["spec"]["metrics"]
    assert (metric["type"], metric["resource"]["name"]) == ("Resource", "cpu")
    assert metric["resource"]["target"]["type"] == "Utilization"
    # Utilization is measured against the request: without one the HPA cannot scale.
    assert all("cpu" in c["resources"]["requests"] for c in pod_spec(api)["containers"])
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_no_integrator_key_ships_in_the_deploy_files() -> None:
    assert service_settings("api").integrator_keys == []
    for name in workloads():
        assert container_settings(name).integrator_keys == [], name
