"""The secrets of a deployment, made at random, never written in the repository.

`procura compose-env` writes docker-compose's `.env` with a random value for every
credential (PostgreSQL's superuser and each service's database user, the RabbitMQ
administrator and each service's RabbitMQ user, Grafana's admin, the key that encrypts buyer
systems' shared secrets, identity's signing key ring), then the RabbitMQ definitions file
made from it (services/common/broker_access.py), which holds the password hashes the broker
loads at boot. Nothing in docker-compose.yml has a default credential.

`procura k8s-secrets` writes the same for Kubernetes: the keys of the Secret
`procura-secrets` (each service's AMQP URI and database URL, punchout's key) and, apart,
the passwords they hold (the broker's definitions and the database users are made from
those); deploy/k8s/README.md says how to load them.
"""
import json
import os
import secrets
from pathlib import Path

from services.common.broker_access import definitions_from_env, read_env_file, service_user
from services.common.config import DATA_SERVICES, ROOT, SERVICES

# beside docker-compose.yml, which reads both (the definitions file is mounted into RabbitMQ)
ENV_FILE = ROOT / ".env"
DEFINITIONS = ROOT / "deploy/rabbitmq/definitions.json"
K8S_SECRETS = ROOT / "deploy/k8s/secrets.env"
K8S_PASSWORDS = ROOT / "deploy/k8s/passwords.env"


def secret():
    # URL-safe, so that it sits in a database or AMQP URI as it is
    return secrets.token_urlsafe(24)


def compose_values() -> dict:
    from cryptography.fernet import Fernet

    from services.identity.signing_keys import KeyRing
    values = {"POSTGRES_PASSWORD": secret()}
    values.update({f"{s.upper()}_DB_PASSWORD": secret() for s in DATA_SERVICES})
    values.update({"RABBITMQ_ADMIN_USER": "procura-admin", "RABBITMQ_ADMIN_PASSWORD": secret()})
    values.update({f"{s.upper()}_AMQP_PASSWORD": secret() for s in SERVICES})
    values.update({"GRAFANA_ADMIN_PASSWORD": secret(),
                   "PUNCHOUT_SECRET_KEY": Fernet.generate_key().decode(),
                   "IDENTITY_SIGNING_KEYS": KeyRing().rotated().to_json().strip(),
                   "QUEUE_TYPE": "quorum"})
    return values


def env_text(values: dict) -> str:
    lines = ["# Procura's docker-compose secrets, made by `procura compose-env`. Keep this file",
             "# private; the RabbitMQ definitions file is made from it (after a change here:",
             "# `procura broker-definitions --output deploy/rabbitmq/definitions.json`)."]
    for key, value in values.items():
        # single quotes: compose takes the value as it is (the key ring holds "\n" escapes)
        lines.append(f"{key}='{value}'")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def write_definitions(env_file, output):
    try:
        text = json.dumps(definitions_from_env(read_env_file(env_file)), indent=2) + "\n"
    except (ValueError, OSError) as exc:
        raise SystemExit(f"{env_file}: {exc}")
    if output in (None, "-"):
        print(text, end="")
    else:
        # RabbitMQ's container user must read it; it holds hashes, not passwords
        Path(output).write_text(text)
        os.chmod(output, 0o644)


def compose_env(env_file=ENV_FILE, definitions=DEFINITIONS, force=False) -> str:
    """Write a new `.env` (refused if one exists, unless `force`) and its definitions."""
    env_file = Path(env_file)
    if env_file.exists() and not force:
        raise SystemExit(f"{env_file} exists: keep it (its secrets are in use), or pass "
                         "--force to make new ones")
    write_private(env_file, env_text(compose_values()))
    write_definitions(env_file, definitions)
    return f"wrote {env_file} (secrets) and {definitions} (RabbitMQ users and topology)"


def kubernetes_secret(values: dict, rabbitmq="rabbitmq:5672/procura", postgres="postgres:5432"):
    """The keys of the Secret `procura-secrets`, made from `values` (compose_values()):
    what each Deployment reads, and nothing it does not."""
    secret_keys = {f"{s.upper()}_AMQP_URI":
                   f"amqp://{service_user(s)}:{values[f'{s.upper()}_AMQP_PASSWORD']}@{rabbitmq}"
                   for s in SERVICES}
    secret_keys.update({f"{s.upper()}_DATABASE_URL":
                        f"postgresql://{s}:{values[f'{s.upper()}_DB_PASSWORD']}@{postgres}/{s}"
                        for s in DATA_SERVICES})
    secret_keys["PUNCHOUT_SECRET_KEY"] = values["PUNCHOUT_SECRET_KEY"]
    return secret_keys


def k8s_secrets(secrets_file=K8S_SECRETS, passwords_file=K8S_PASSWORDS, force=False) -> str:
    """Write the Secret's keys and, apart, the passwords in them (for the broker's
    definitions and the database users); refused if either exists, unless `force`."""
    secrets_file, passwords_file = Path(secrets_file), Path(passwords_file)
    for path in (secrets_file, passwords_file):
        if path.exists() and not force:
            raise SystemExit(f"{path} exists: keep it (its secrets are in use), or pass "
                             "--force to make new ones")
    values = compose_values()
    passwords = {key: value for key, value in values.items()
                 if key.endswith(("_AMQP_PASSWORD", "_DB_PASSWORD"))
                 or key.startswith("RABBITMQ_ADMIN_")}
    passwords.update({"RABBITMQ_VHOST": "procura", "QUEUE_TYPE": "quorum"})
    # kubectl's --from-env-file takes a value as it is: no quotes
    write_private(secrets_file, "".join(f"{k}={v}\n" for k, v in
                                        kubernetes_secret(values).items()))
    write_private(passwords_file, "".join(f"{k}={v}\n" for k, v in passwords.items()))
    return (f"wrote {secrets_file} (the Secret procura-secrets) and {passwords_file} (the "
            "passwords in it: RabbitMQ's definitions, the database users)")
