"""The container and deployment files start every service exactly as `make run` does
(`procura serve <service>`, from the Procfile), can be scaled, and stay valid.

No Docker engine is needed: docker-compose validates the compose file on its own, and
promtool (when installed) checks the Prometheus configuration and unit-tests the alerts.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest
import yaml

from services.common.config import DATA_SERVICES, SERVICES

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
SCALABLE = [s for s in SERVICES if s != "gateway"]


# ---------------------------------------------------------------- readers

def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile_argv():
    """{process name: argv after the procura executable} from the Procfile of `make run`."""
    path = ROOT / "Procfile"
    assert path.exists(), "the Procfile (what `make run` starts) is missing"
    commands = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, command = line.split(":", 1)
        argv = shlex.split(command)
        commands[name.strip()] = argv
    return commands


def procura_args(argv):
    assert PurePosixPath(argv[0]).name == "procura", f"not the procura command: {argv}"
    return argv[1:]


def dockerfile_instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue
        current += line.rstrip("\\").strip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = current.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
            current = ""
    return instructions


def dockerfile_exec_form(keyword):
    found = [rest for kw, rest in dockerfile_instructions() if kw == keyword]
    assert found, f"the Dockerfile has no {keyword}"
    # the last one wins, as in Docker; exec (JSON) form so that no shell sits in between
    return json.loads(found[-1])


def k8s_documents():
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def k8s_objects(kind):
    return {d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == kind}


def compose_binary():
    """docker-compose (v1, Debian's package) or the `docker compose` plugin, if either works."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


# ---------------------------------------------------------------- (a) same command as make run

def test_every_service_runs_in_compose_with_the_make_run_command():
    services = compose()["services"]
    procfile = procfile_argv()
    for name in SERVICES:
        assert name in procfile, f"{name} is not in the Procfile"
        assert name in services, f"{name} is missing from docker-compose.yml"
        assert services[name]["command"] == procura_args(procfile[name]), name
        assert services[name]["command"] == ["serve", name]


def test_services_share_one_image_and_one_environment():
    services = compose()["services"]
    first = services[SERVICES[0]]
    for name in list(SERVICES) + ["migrate"]:
        spec = services[name]
        assert spec["image"] == first["image"] and spec["build"] == first["build"], name
        assert spec["environment"] == first["environment"], name
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^x-service: &service$", text, re.M)
    for name in SERVICES:
        # each service block is the shared one plus its command
        assert re.search(rf"^  {name}:\n    <<: \*service\n", text, re.M), name


# ---------------------------------------------------------------- (b) scalable, ordered

def test_scalable_services_have_no_container_name_and_no_host_port():
    services = compose()["services"]
    for name, spec in services.items():
        assert "container_name" not in spec, f"{name} has a fixed container_name"
    for name in SCALABLE + ["migrate"]:
        assert "ports" not in services[name], f"{name} publishes a host port: it could not scale"
    assert services["gateway"]["ports"] == ["8080:8080"]
    # "HOST:CONTAINER" or "IP:HOST:CONTAINER"; a bare container port gets a random host port
    published = {name: [str(p).split(":")[-2] for p in spec.get("ports", []) if ":" in str(p)]
                 for name, spec in services.items()}
    assert sorted(n for n, ports in published.items() if "8080" in ports) == ["gateway"]
    for ui, port in (("grafana", "3000"), ("mailpit", "8025"), ("rabbitmq", "15672")):
        assert port in published[ui], f"the {ui} UI is not published on {port}"


def test_services_wait_for_the_migrate_job_which_waits_for_the_infrastructure():
    services = compose()["services"]
    for name in SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["rabbitmq"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert "migrate" not in migrate["depends_on"]
    for infra in ("rabbitmq", "postgres"):
        assert migrate["depends_on"][infra] == {"condition": "service_healthy"}
        assert services[infra]["healthcheck"]["test"], infra
    # while the image runs init.sql its server listens on a socket only: ask over TCP
    assert "-h" in services["postgres"]["healthcheck"]["test"]


def test_compose_environment_matches_the_infrastructure():
    services = compose()["services"]
    env = services["orders"]["environment"]
    init = (DEPLOY / "postgres/init.sql").read_text()
    for name in DATA_SERVICES:
        assert env[f"{name.upper()}_DATABASE_URL"] == f"postgresql://{name}:{name}@postgres:5432/{name}"
        assert f"CREATE USER {name} WITH PASSWORD '{name}';" in init, name
        assert f"CREATE DATABASE {name} OWNER {name};" in init, name
    assert env["AMQP_URI"].startswith("amqp://guest:guest@rabbitmq:5672")
    assert env["SMTP_HOST"] in services and env["SMTP_PORT"] == "1025"
    assert re.match(r"axllent/mailpit|mailhog/mailhog", services[env["SMTP_HOST"]]["image"])
    assert env["GATEWAY_HOST"] == env["METRICS_HOST"] == "0.0.0.0"
    assert env["GATEWAY_PORT"] == "8080" and env["METRICS_PORT"] == "9100"
    assert services["postgres"]["image"].startswith("postgres:15")
    assert re.match(r"rabbitmq:3\.[0-9.]+-management$", services["rabbitmq"]["image"])


def test_files_mounted_into_compose_containers_exist():
    mounts = [(name, v.split(":")[0]) for name, spec in compose()["services"].items()
              for v in spec.get("volumes", []) if v.startswith("./")]
    assert len(mounts) >= 5
    for name, source in mounts:
        assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"


# ---------------------------------------------------------------- (c) docker-compose validates it

def missing_tool(reason):
    """Skip on a developer's machine without the tool; fail where it is required (.ci/run
    installs both tools and sets PROCURA_REQUIRE_TOOLS=1, so these checks cannot vanish there)."""
    if os.environ.get("PROCURA_REQUIRE_TOOLS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def test_docker_compose_accepts_the_file():
    binary = compose_binary()
    if binary is None:
        missing_tool("neither docker-compose nor `docker compose` is installed, so the file "
                    "cannot be validated here (apt-get install docker-compose)")
    result = subprocess.run(binary + ["-f", "docker-compose.yml", "config", "-q"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    # and compose's own reading of the anchors gives every service its make-run command
    result = subprocess.run(binary + ["-f", "docker-compose.yml", "config"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    procfile = procfile_argv()
    for name in SERVICES:
        assert resolved[name]["command"] == procura_args(procfile[name]), name


# ---------------------------------------------------------------- (d) Kubernetes, Prometheus, Grafana

def test_kubernetes_manifests_parse_and_every_service_has_a_deployment():
    docs = k8s_documents()
    assert docs
    for path, doc in docs:
        assert doc.get("apiVersion") and doc.get("kind"), path
        if doc["kind"] != "Kustomization":
            assert doc["metadata"]["name"], path
    deployments = k8s_objects("Deployment")
    procfile = procfile_argv()
    images = set()
    for name in SERVICES:
        deployment = deployments[f"procura-{name}"]
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        assert container["args"] == procura_args(procfile[name]), name
        assert "command" not in container, "the image's ENTRYPOINT must stay in charge"
        images.add(container["image"])
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        resources = container["resources"]
        assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
        assert resources["limits"]["memory"], name
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True, name
        assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true", name
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9100", name
    assert len(images) == 1, f"one image for every service, not {images}"


def test_kubernetes_services_and_autoscalers_target_existing_deployments():
    deployments = k8s_objects("Deployment")
    services = k8s_objects("Service")
    autoscalers = k8s_objects("HorizontalPodAutoscaler")
    for name in SERVICES:
        labels = deployments[f"procura-{name}"]["spec"]["template"]["metadata"]["labels"]
        service = services[f"procura-{name}"]
        assert service["spec"]["selector"].items() <= labels.items(), name
        (container,) = deployments[f"procura-{name}"]["spec"]["template"]["spec"]["containers"]
        port_names = {p["name"] for p in container["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (name, port)
        hpa = autoscalers[f"procura-{name}"]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                         "name": f"procura-{name}"}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"], name
    for name in ("orders", "catalog"):
        metrics = autoscalers[f"procura-{name}"]["spec"]["metrics"]
        assert {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 70}}} in metrics, name


def test_kubernetes_configuration_reaches_every_container():
    configmaps = k8s_objects("ConfigMap")
    secrets = k8s_objects("Secret")
    containers = {name: d["spec"]["template"]["spec"]["containers"][0]
                  for name, d in k8s_objects("Deployment").items()}
    jobs = k8s_objects("Job")
    containers["procura-migrate"] = jobs["procura-migrate"]["spec"]["template"]["spec"]["containers"][0]
    for name, container in containers.items():
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] in configmaps, name
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets[ref["name"]]["stringData"] or ref.get("optional"), \
                    (name, ref["key"])
    config = next(iter(configmaps.values()))["data"]
    assert config["METRICS_HOST"] == config["GATEWAY_HOST"] == "0.0.0.0"
    assert config["METRICS_PORT"] == "9100" and config["GATEWAY_PORT"] == "8080"

    def database_vars(container):
        return {v["name"] for v in container.get("env", []) if v["name"].endswith("_DATABASE_URL")}

    for name in SERVICES:
        expected = {f"{name.upper()}_DATABASE_URL"} if name in DATA_SERVICES else set()
        assert database_vars(containers[f"procura-{name}"]) == expected, name
    migrate = containers["procura-migrate"]
    assert migrate["args"] == ["migrate"]
    assert database_vars(migrate) == {f"{s.upper()}_DATABASE_URL" for s in DATA_SERVICES}
    assert jobs["procura-migrate"]["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")


def test_kubernetes_gateway_is_ready_through_readyz():
    (container,) = k8s_objects("Deployment")["procura-gateway"]["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    readiness = container["readinessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert ports.get(readiness["port"], readiness["port"]) == 8080
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name in SCALABLE:
        (other,) = k8s_objects("Deployment")[f"procura-{name}"]["spec"]["template"]["spec"]["containers"]
        other_ports = {p["name"]: p["containerPort"] for p in other["ports"]}
        probe = other["readinessProbe"]["httpGet"]
        assert other_ports.get(probe["port"], probe["port"]) == 9100, name


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((DEPLOY / "k8s/kustomization.yaml").read_text())
    manifests = sorted(p.name for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == manifests


def test_prometheus_scrapes_every_replica_of_every_service():
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    services = compose()["services"]
    port = int(services["orders"]["environment"]["METRICS_PORT"])
    for name in SERVICES:
        (sd,) = jobs[name]["dns_sd_configs"]
        assert sd["names"] == [name] and name in services
        assert sd["type"] == "A" and sd["port"] == port, name
    for rule_file in config["rule_files"]:
        assert (DEPLOY / "prometheus" / rule_file).exists(), rule_file
    mounts = [v for v in services["prometheus"]["volumes"] if v.startswith("./deploy/prometheus:")]
    assert mounts, "prometheus.yml and its rules are not mounted into the container"


def test_alert_rules_cover_backlog_dead_letters_errors_latency_and_down():
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    exprs = {name: re.sub(r"\s+", " ", r["expr"]) for name, r in alerts.items()}

    def find(pattern):
        return [name for name, expr in exprs.items() if re.search(pattern, expr)]

    assert find(r"deriv\(procura_outbox_backlog"), "no alert on a growing outbox backlog"
    assert find(r"max\(procura_dead_letters\) > 0"), "no alert on dead letters"
    assert find(r'procura_entrypoint_requests_total\{outcome="error"\}'), "no alert on errors"
    assert find(r"histogram_quantile\(0\.99, .*procura_entrypoint_latency_seconds_bucket"), \
        "no alert on p99 latency"
    assert find(r"\bup\{job=~\"[^\"]*\"\} == 0"), "no alert on a service down"
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"], name
    for name in SERVICES:
        assert f'absent(up{{job="{name}"}})' in exprs["ProcuraServiceDown"], name


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard():
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/procura.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    volumes = compose()["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in volumes
    dashboard = json.loads((DEPLOY / "grafana/dashboards/procura.json").read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    exprs = " ".join(t["expr"] for p in panels for t in p.get("targets", []))
    for metric in ("procura_entrypoint_requests_total", "procura_entrypoint_latency_seconds_bucket",
                   "procura_outbox_backlog", "procura_dead_letters"):
        assert metric in exprs, metric
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == source["uid"], panel["title"]


def test_rabbitmq_enables_management_and_prometheus_plugins():
    text = (DEPLOY / "rabbitmq/enabled_plugins").read_text().strip()
    match = re.fullmatch(r"\[([a-z_,\s]*)\]\.", text)
    assert match, "enabled_plugins must be an Erlang list term ending with a dot"
    plugins = {p.strip() for p in match.group(1).split(",")}
    assert {"rabbitmq_management", "rabbitmq_prometheus"} <= plugins
    volumes = compose()["services"]["rabbitmq"]["volumes"]
    assert "./deploy/rabbitmq/enabled_plugins:/etc/rabbitmq/enabled_plugins:ro" in volumes


@pytest.fixture
def promtool():
    binary = shutil.which("promtool")
    if binary is None:
        missing_tool("promtool is not installed (Debian package prometheus)")
    return binary


def run_promtool(promtool, *args):
    result = subprocess.run([promtool, *args], capture_output=True, text=True,
                            cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_configuration_and_the_alerts_behave(promtool):
    run_promtool(promtool, "check", "config", "prometheus.yml")
    run_promtool(promtool, "test", "rules", "alerts_test.yml")


def test_promtool_accepts_every_dashboard_query(promtool, tmp_path):
    dashboard = json.loads((DEPLOY / "grafana/dashboards/procura.json").read_text())
    rules = [{"record": f"dashboard:panel{p['id']}:{t['refId']}",
              "expr": t["expr"].replace("$__rate_interval", "1m").replace("$service", ".*")}
             for p in dashboard["panels"] for t in p.get("targets", [])]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run_promtool(promtool, "check", "rules", str(path))


# ---------------------------------------------------------------- (e) the image runs procura

def test_dockerfile_makes_procura_serve_the_command():
    entrypoint = dockerfile_exec_form("ENTRYPOINT")
    assert entrypoint == ["procura"]
    assert entrypoint + dockerfile_exec_form("CMD") == ["procura", "serve", "gateway"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["procura"] == "services.cli:main"
    # compose and Kubernetes pass only the arguments: with the ENTRYPOINT they make the
    # Procfile's command
    services = compose()["services"]
    procfile = procfile_argv()
    for name in SERVICES:
        assert [PurePosixPath(procfile[name][0]).name] + procura_args(procfile[name]) == \
            entrypoint + services[name]["command"], name


def test_dockerfile_builds_a_non_root_image_from_the_package():
    instructions = dockerfile_instructions()
    (base,) = [rest for kw, rest in instructions if kw == "FROM"]
    assert base == "python:3.11-slim"
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert re.search(r"pip install (--no-deps )?\.(\s|$)", runs), "the package is not installed"
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"
    exposed = " ".join(rest for kw, rest in instructions if kw == "EXPOSE").split()
    assert {"8080", "9100"} <= set(exposed)
    assert any(kw == "HEALTHCHECK" for kw, _ in instructions)


def test_dockerignore_keeps_what_the_image_copies():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = [src for kw, rest in dockerfile_instructions() if kw == "COPY"
              for src in rest.split()[:-1] if not src.startswith("--")]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch(source, p.rstrip("/")) for p in patterns), f"{source} is ignored"
    for local in (".venv", "var", ".git", "tests"):
        assert local in patterns, f"{local} would be sent to the Docker daemon"
