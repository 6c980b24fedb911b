"""docker-compose, the Dockerfile and the Kubernetes manifests start each service exactly
as `make run` does, and stay valid (no Docker engine is needed to check this)."""
import glob
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from services.common.config import SERVICES

ROOT = Path(__file__).resolve().parents[3]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile_commands():
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, command = line.split(":", 1)
        argv = command.split()
        assert argv[0].endswith("procura"), line
        commands[name.strip()] = argv[1:]
    return commands


def test_every_service_runs_in_compose_with_the_make_run_command():
    services = compose()["services"]
    procfile = procfile_commands()
    for name in SERVICES:
        assert name in services, f"{name} missing from docker-compose.yml"
        assert services[name]["command"] == procfile[name] == ["serve", name]


def test_dockerfile_runs_the_procura_command():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["procura"\]$', text, re.M)
    assert re.search(r'^CMD \["serve", "gateway"\]$', text, re.M)
    assert re.search(r"^USER ", text, re.M), "the image must not run as root"


def test_services_can_be_scaled_and_wait_for_migrations():
    services = compose()["services"]
    for name in SERVICES:
        spec = services[name]
        assert "container_name" not in spec
        if name != "gateway":
            assert "ports" not in spec, f"{name} publishes a fixed port: it could not scale"
        assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["migrate"]
    for infra in ("rabbitmq", "postgres", "mailcatcher", "prometheus", "grafana"):
        assert infra in services


def test_each_service_has_its_own_database_and_user():
    env = compose()["services"]["orders"]["environment"]
    init = (ROOT / "deploy/postgres/init.sql").read_text()
    for name in SERVICES:
        if name == "gateway":
            continue
        url = env[f"{name.upper()}_DATABASE_URL"]
        assert url == f"postgresql://{name}:{name}@postgres:5432/{name}"
        assert f"CREATE DATABASE {name} OWNER {name};" in init


def test_rabbitmq_has_management_and_prometheus_plugins():
    plugins = (ROOT / "deploy/rabbitmq/enabled_plugins").read_text()
    assert "rabbitmq_management" in plugins and "rabbitmq_prometheus" in plugins


def test_prometheus_scrapes_every_service_and_alerts_parse():
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in SERVICES:
        assert jobs[name]["dns_sd_configs"][0]["names"] == [name]
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    exprs = " ".join(r["expr"] for g in rules["groups"] for r in g["rules"])
    for metric in ("procura_outbox_backlog", "procura_dead_letters",
                   "procura_entrypoint_requests_total", "procura_entrypoint_latency_seconds"):
        assert metric in exprs


def test_kubernetes_has_a_deployment_per_service_running_the_same_command():
    docs = [d for f in sorted(glob.glob(str(ROOT / "deploy/k8s/*.yaml")))
            for d in yaml.safe_load_all(Path(f).read_text()) if d]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for name in SERVICES:
        container = deployments[f"procura-{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["serve", name]
    assert any(d["kind"] == "Job" and d["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
               for d in docs)
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"} >= \
        {"procura-orders", "procura-catalog"}


def test_grafana_dashboard_is_valid_json():
    import json
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/procura.json").read_text())
    assert dashboard["panels"]


def test_docker_compose_config_is_valid():
    # .ci/run installs Debian's docker-compose; it validates without a Docker engine
    assert shutil.which("docker-compose"), "install docker-compose (apt-get install docker-compose)"
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
