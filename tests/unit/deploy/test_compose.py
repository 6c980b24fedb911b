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
from services.deploy_env import compose_values, kubernetes_secret

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


def own_credentials(name):
    """The variables only service `name`'s container gets: its own RabbitMQ user and
    database, and identity's signing keys or punchout's encryption key."""
    own = {f"{name.upper()}_AMQP_URI"}
    if name in DATA_SERVICES:
        own.add(f"{name.upper()}_DATABASE_URL")
    own |= {"identity": {"IDENTITY_SIGNING_KEYS"}, "punchout": {"PUNCHOUT_SECRET_KEY"}}.get(name, set())
    return own


def test_services_share_one_image_and_one_environment():
    services = compose()["services"]
    first = services[SERVICES[0]]
    shared = {k: v for k, v in first["environment"].items() if k not in own_credentials(SERVICES[0])}
    for name in list(SERVICES) + ["migrate"]:
        spec = services[name]
        assert spec["image"] == first["image"] and spec["build"] == first["build"], name
        env = spec["environment"]
        assert {k: v for k, v in env.items() if k in shared} == shared, name
        if name != "migrate":
            # each service sees its own credentials and no other's
            assert set(env) - set(shared) == own_credentials(name), name
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^x-service: &service$", text, re.M)
    for name in SERVICES:
        # each service block is the shared one plus its command
        assert re.search(rf"^  {name}:\n    <<: \*service\n", text, re.M), name


# ---------------------------------------------------------------- (b) scalable, ordered

def test_only_the_gateway_is_published_and_the_uis_on_this_machine_only():
    services = compose()["services"]
    for name, spec in services.items():
        assert "container_name" not in spec, f"{name} has a fixed container_name"
    for name in SCALABLE + ["migrate", "postgres"]:
        assert "ports" not in services[name], f"{name} publishes a host port"
    assert services["gateway"]["ports"] == ["8080:8080"]
    # "IP:HOST:CONTAINER": every other published port is bound to the loopback address
    published = {name: [str(p) for p in spec.get("ports", [])] for name, spec in services.items()}
    for ui, port in (("grafana", "3000"), ("mailpit", "8025"), ("rabbitmq", "15672"),
                     ("prometheus", "9090")):
        assert published[ui] == [f"127.0.0.1:{port}:{port}"], ui
    assert not any("5672:" in p and "15672" not in p for ports in published.values() for p in ports), \
        "RabbitMQ's AMQP port is published"


def test_services_wait_for_the_migrate_job_which_waits_for_the_infrastructure():
    services = compose()["services"]
    for name in SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["rabbitmq"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
    migrate = services["migrate"]
    # the broker's users and topology come from its definitions, not from this job
    assert migrate["command"] == ["migrate", "--no-queues"]
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
    init = (DEPLOY / "postgres/init.sh").read_text()
    for name in DATA_SERVICES:
        url = services[name]["environment"][f"{name.upper()}_DATABASE_URL"]
        assert url == (f"postgresql://{name}:${{{name.upper()}_DB_PASSWORD:?run procura "
                       f"compose-env (README)}}@postgres:5432/{name}"), name
        assert services["postgres"]["environment"][f"{name.upper()}_DB_PASSWORD"] == \
            f"${{{name.upper()}_DB_PASSWORD:?run procura compose-env (README)}}", name
        assert re.search(rf"\bfor service in [^;]*\b{name}\b", init), name
    assert 'CREATE USER :"name" WITH PASSWORD :\'password\';' in init
    for name in SERVICES:
        uri = services[name]["environment"][f"{name.upper()}_AMQP_URI"]
        assert uri.startswith(f"amqp://procura-{name}:${{{name.upper()}_AMQP_PASSWORD:?"), name
        assert uri.endswith("@rabbitmq:5672/"), name
        assert env[f"{name.upper()}_AMQP_USER"] == f"procura-{name}", name
    assert "AMQP_URI" not in env, "no service logs in as a shared user"
    assert env["QUEUE_TYPE"] == "${QUEUE_TYPE:-quorum}"
    assert env["SMTP_HOST"] in services and env["SMTP_PORT"] == "1025"
    assert re.match(r"axllent/mailpit|mailhog/mailhog", services[env["SMTP_HOST"]]["image"])
    assert env["GATEWAY_HOST"] == env["METRICS_HOST"] == "0.0.0.0"
    assert env["GATEWAY_PORT"] == "8080" and env["METRICS_PORT"] == "9100"
    assert services["postgres"]["image"].startswith("postgres:15")
    assert re.match(r"rabbitmq:3\.[0-9.]+-management$", services["rabbitmq"]["image"])


def test_no_credential_has_a_default():
    """Every password, key and key ring comes from `.env` (`${VAR:?…}`: compose stops
    without it); none is written in the file, none falls back to a default."""
    text = (ROOT / "docker-compose.yml").read_text()
    secret_names = re.compile(r"PASSWORD|SECRET|SIGNING_KEYS|AMQP_URI|DATABASE_URL")
    for name, spec in compose()["services"].items():
        for key, value in (spec.get("environment") or {}).items():
            if secret_names.search(key):
                assert re.search(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), (name, key, value)
    for default in ("guest", "admin/admin", ":-admin", "POSTGRES_PASSWORD: postgres", "change-me"):
        assert default not in text, default
    grafana = compose()["services"]["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_compose_env_makes_every_secret_and_the_broker_definitions(tmp_path):
    from services.common.broker_access import password_hash, read_env_file
    from services.deploy_env import compose_env
    env_file, definitions = tmp_path / ".env", tmp_path / "definitions.json"
    compose_env(env_file, definitions)
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    values = read_env_file(env_file)
    referenced = set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text()))
    assert referenced <= set(values), referenced - set(values)
    assert len({values[k] for k in referenced}) == len(referenced), "a secret is used twice"
    with pytest.raises(SystemExit):
        compose_env(env_file, definitions)  # an existing .env is kept
    defs = json.loads(definitions.read_text())
    users = {u["name"]: u for u in defs["users"]}
    assert set(users) == {"procura-admin"} | {f"procura-{s}" for s in SERVICES}
    assert users["procura-admin"]["tags"] == ["administrator"]
    for name in SERVICES:
        user = users[f"procura-{name}"]
        assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256" and user["tags"] == []
        salt = __import__("base64").b64decode(user["password_hash"])[:4]
        assert password_hash(values[f"{name.upper()}_AMQP_PASSWORD"], salt) == user["password_hash"]
    perms = {p["user"]: p for p in defs["permissions"]}
    orders = perms["procura-orders"]
    assert re.fullmatch(orders["write"], "orders.events") and re.fullmatch(orders["write"], "nameko-rpc")
    for other in ("catalog.events", "identity.events", "amq.default", "rpc-catalog"):
        assert not re.fullmatch(orders["write"], other), other
    assert re.fullmatch(orders["read"], "approvals.events")  # orders listens to approvals
    assert not re.fullmatch(orders["read"], "evt-orders-order_placed--approvals.on_order_placed")
    assert not re.fullmatch(orders["read"], "procura.dead-letters")
    quorum = [q for q in defs["queues"] if q["arguments"].get("x-queue-type") == "quorum"]
    assert quorum and len(quorum) == len(defs["queues"]), "compose's queues are quorum queues"
    exchanges = {e["name"] for e in defs["exchanges"]}
    assert {f"{s}.events" for s in SERVICES} | {"nameko-rpc", "procura.dead-letters"} <= exchanges


def test_k8s_secrets_makes_the_secret_and_the_passwords_it_holds(tmp_path):
    from services.common.broker_access import definitions_from_env, read_env_file
    from services.deploy_env import k8s_secrets
    secret_file, passwords_file = tmp_path / "secrets.env", tmp_path / "passwords.env"
    k8s_secrets(secret_file, passwords_file)
    for path in (secret_file, passwords_file):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    secret, passwords = read_env_file(secret_file), read_env_file(passwords_file)
    referenced = {var["valueFrom"]["secretKeyRef"]["key"]
                  for d in [*k8s_objects("Deployment").values(), *k8s_objects("Job").values()]
                  for var in d["spec"]["template"]["spec"]["containers"][0].get("env", [])
                  if "secretKeyRef" in var.get("valueFrom", {})
                  and not var["valueFrom"]["secretKeyRef"].get("optional")}
    assert referenced == set(secret)
    for name in SERVICES:
        assert secret[f"{name.upper()}_AMQP_URI"] == (
            f"amqp://procura-{name}:{passwords[f'{name.upper()}_AMQP_PASSWORD']}"
            "@rabbitmq:5672/procura")
    for name in DATA_SERVICES:
        assert f":{passwords[f'{name.upper()}_DB_PASSWORD']}@postgres:5432/{name}" in \
            secret[f"{name.upper()}_DATABASE_URL"]
    assert len(set(passwords.values()) - {"procura", "quorum", "procura-admin"}) == \
        len(passwords) - 3, "a password is used twice"
    definitions = definitions_from_env(passwords)  # the broker's users from the same file
    assert {v["name"] for v in definitions["vhosts"]} == {"procura"}
    with pytest.raises(SystemExit):
        k8s_secrets(secret_file, passwords_file)  # secrets in use are kept


def test_files_mounted_into_compose_containers_exist():
    mounts = [(name, v.split(":")[0]) for name, spec in compose()["services"].items()
              for v in spec.get("volumes", []) if v.startswith("./")]
    assert len(mounts) >= 5
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for name, source in mounts:
        if source == "./deploy/rabbitmq/definitions.json":
            # made by `procura compose-env` (password hashes), never in the repository
            assert source[2:] in ignored
            continue
        assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
    conf = (DEPLOY / "rabbitmq/procura.conf").read_text()
    assert "load_definitions = /etc/rabbitmq/definitions.json" in conf


# ---------------------------------------------------------------- (c) docker-compose validates it

def missing_tool(reason):
    """Skip on a developer's machine without the tool; fail where it is required (.ci/run
    installs both tools and sets PROCURA_REQUIRE_TOOLS=1, so these checks cannot vanish there)."""
    if os.environ.get("PROCURA_REQUIRE_TOOLS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def test_docker_compose_accepts_the_file(tmp_path):
    binary = compose_binary()
    if binary is None:
        missing_tool("neither docker-compose nor `docker compose` is installed, so the file "
                    "cannot be validated here (apt-get install docker-compose)")
    from services.deploy_env import compose_env
    env_file = tmp_path / "compose.env"
    compose_env(env_file, tmp_path / "definitions.json")
    # without the secrets compose stops and says how to make them
    empty = tmp_path / "empty.env"
    empty.write_text("# nothing\n")
    result = subprocess.run(binary + ["-f", "docker-compose.yml", "--env-file", str(empty),
                                      "config", "-q"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "procura compose-env" in result.stderr, result.stderr
    result = subprocess.run(binary + ["-f", "docker-compose.yml", "--env-file", str(env_file),
                                      "config", "-q"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    # and compose's own reading of the anchors gives every service its make-run command
    result = subprocess.run(binary + ["-f", "docker-compose.yml", "--env-file", str(env_file),
                                      "config"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    procfile = procfile_argv()
    for name in SERVICES:
        assert resolved[name]["command"] == procura_args(procfile[name]), name
    # the .env's values reach the containers as they are (quotes removed)
    from services.common.broker_access import read_env_file
    values = read_env_file(env_file)
    orders = resolved["orders"]["environment"]["ORDERS_AMQP_URI"]
    assert orders == f"amqp://procura-orders:{values['ORDERS_AMQP_PASSWORD']}@rabbitmq:5672/"
    from services.identity.signing_keys import KeyRing
    KeyRing.from_json(resolved["identity"]["environment"]["IDENTITY_SIGNING_KEYS"])


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
    # the Secret is made by `procura k8s-secrets`, never written in the manifests
    assert not k8s_objects("Secret")
    for path in (DEPLOY / "k8s").glob("*.yaml"):
        assert "change-me" not in path.read_text(), path.name
    secrets = {"procura-secrets": {"stringData": kubernetes_secret(compose_values())}}
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
    assert migrate["args"] == ["migrate", "--no-queues"]
    assert database_vars(migrate) == {f"{s.upper()}_DATABASE_URL" for s in DATA_SERVICES}

    def amqp_vars(container):
        return {v["name"] for v in container.get("env", []) if "AMQP_URI" in v["name"]}

    for name in SERVICES:
        # its own RabbitMQ user only, from the Secret
        assert amqp_vars(containers[f"procura-{name}"]) == {f"{name.upper()}_AMQP_URI"}, name
    assert amqp_vars(migrate) == set()
    assert config["QUEUE_TYPE"] == "quorum"
    for name in SERVICES:
        assert config[f"{name.upper()}_AMQP_USER"] == f"procura-{name}", name
    assert "AMQP_URI" not in next(iter(secrets.values()))["stringData"]
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


def network_policies():
    return [d for _, d in k8s_documents() if d["kind"] == "NetworkPolicy"]


def selects(policy, labels):
    selector = policy["spec"]["podSelector"]
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def test_kubernetes_network_policies_let_only_the_gateway_be_reached_from_outside():
    policies = network_policies()
    (deny,) = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"] and \
        "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    pods = {name: d["spec"]["template"]["metadata"]["labels"]
            for name, d in k8s_objects("Deployment").items()}
    pods["procura-migrate"] = k8s_objects("Job")["procura-migrate"]["spec"]["template"]["metadata"]["labels"]
    for name, labels in pods.items():
        ingress_ports = {port["port"] for p in policies if selects(p, labels)
                         for rule in p["spec"].get("ingress", []) for port in rule["ports"]}
        # the metrics port from Prometheus; HTTP for the gateway only
        assert ingress_ports <= ({9100, 8080} if name == "procura-gateway" else {9100}), name
        egress_ports = {port["port"] for p in policies if selects(p, labels)
                        for rule in p["spec"].get("egress", []) for port in rule["ports"]}
        expected = {53, 5672}
        if labels["app.kubernetes.io/component"] in DATA_SERVICES + ("migrate",):
            expected.add(5432)
        expected |= {"notifications": {587}, "punchout": {443}}.get(labels["app.kubernetes.io/component"], set())
        assert egress_ports == expected, (name, egress_ports)
    (gateway,) = [p for p in policies if p["metadata"]["name"] == "procura-gateway-from-ingress"]
    (rule,) = gateway["spec"]["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "ingress-nginx"}}}]
    (container,) = k8s_objects("Deployment")["procura-gateway"]["spec"]["template"]["spec"]["containers"]
    trusted = {v["name"]: v.get("value") for v in container["env"]}
    assert trusted.get("GATEWAY_TRUSTED_PROXIES"), "the gateway must know the ingress's network"


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
