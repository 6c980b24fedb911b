#!/usr/bin/env bash
# make run: install, make each service's RabbitMQ user, migrate (its identity database marked
# as a local development one, where demo logins and a signing key made on first use are
# allowed), load demo data once, start every service (one process each) and the local mail
# sink; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export PYTHONUNBUFFERED=1
.venv/bin/procura check-broker
# each service logs in to RabbitMQ as its own user, with its own permissions (passwords made
# on first use, kept under var/); `procura migrate` declares the topology as the
# administrator (AMQP_URI, guest locally)
service_users="$(.venv/bin/procura broker-users --local)"
eval "$service_users"
.venv/bin/procura migrate --local-development
.venv/bin/procura seed-demo
concurrency="${SCALE:-}"
if [ -n "${SMTP_HOST:-}" ]; then
  concurrency="${concurrency:+$concurrency,}mailsink=0"
fi
echo "Procura on http://127.0.0.1:${GATEWAY_PORT:-8080} (the portal; API docs: /docs). Ctrl-C stops."
code=0
.venv/bin/honcho start -f Procfile ${concurrency:+-c "$concurrency"} || code=$?
# Ctrl-C (honcho's 130) is how one stops Procura: a clean stop
if [ "$code" -eq 130 ] || [ "$code" -eq 0 ]; then
  echo "Procura stopped."
  exit 0
fi
exit "$code"
