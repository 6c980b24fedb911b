#!/usr/bin/env bash
# The whole test suite, once on SQLite and once on PostgreSQL, against the real RabbitMQ.
# Sets up what it can (RabbitMQ's management plugin, which the test fixtures use to make a
# private vhost per test) and stops at once, with one line, at what it cannot.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/procura check-broker || exit 1

MGMT="${RABBIT_MGMT:-http://127.0.0.1:15672}"
if ! curl -fs -u guest:guest "$MGMT/api/overview" >/dev/null 2>&1; then
  if command -v rabbitmq-plugins >/dev/null 2>&1; then
    rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do
      curl -fs -u guest:guest "$MGMT/api/overview" >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  if ! curl -fs -u guest:guest "$MGMT/api/overview" >/dev/null 2>&1; then
    echo "RabbitMQ's management API is not reachable at $MGMT: run \`rabbitmq-plugins enable rabbitmq_management\` (guest/guest), then make test again." >&2
    exit 1
  fi
fi
PG="${PROCURA_TEST_PG:-postgresql://postgres@127.0.0.1:5432/postgres}"
if ! .venv/bin/python -c "import psycopg2, sys; psycopg2.connect(sys.argv[1], connect_timeout=3).close()" "$PG" 2>/dev/null; then
  echo "PostgreSQL is not reachable at $PG (user postgres, trust auth): start it (e.g. \`pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start\`) or set PROCURA_TEST_PG, then make test again." >&2
  exit 1
fi

status=0
results=()
for db in sqlite postgresql; do
  echo "=== tests on $db ==="
  if PROCURA_TEST_DB=$db .venv/bin/pytest -q "$@"; then
    results+=("$db: passed")
  else
    results+=("$db: FAILED")
    status=1
  fi
done
printf '%s\n' "=== results ===" "${results[@]}"
exit $status
