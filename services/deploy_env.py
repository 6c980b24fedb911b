"""The secrets of a docker-compose deployment: `procura compose-env` writes an `.env` with a
random value for every credential (PostgreSQL's superuser and each service's database user,
the RabbitMQ administrator and each service's RabbitMQ user, Grafana's admin, the key that
encrypts buyer systems' shared secrets, identity's signing key ring), then the RabbitMQ
definitions file made from it (services/common/broker_access.py), which holds the password
hashes the broker loads at boot. Nothing in docker-compose.yml has a default credential.
"""
import json
import os
import secrets
from pathlib import Path

from services.common.broker_access import definitions_from_env, read_env_file
from services.common.config import DATA_SERVICES, ROOT, SERVICES

# beside docker-compose.yml, which reads both (the definitions file is mounted into RabbitMQ)
ENV_FILE = ROOT / ".env"
DEFINITIONS = ROOT / "deploy/rabbitmq/definitions.json"


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
