#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL, against the real RabbitMQ.
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

# The two passes run at once (they share nothing: each test has its own vhost, databases,
# ports and temporary directory): about 13 minutes on a 2-core machine, 15 one after the
# other. SQLite's output streams; PostgreSQL's follows when both are done. The PostgreSQL
# pass runs in a session of its own with SIGINT handled, so that Ctrl-C (passed on by the
# trap) stops it the way it stops the SQLite pass: fixtures torn down, systems stopped.
temp=$(mktemp -d)
pg=
trap '[ -n "$pg" ] && kill -INT -- "-$pg" 2>/dev/null' INT TERM
trap 'rm -rf "$temp"' EXIT
setsid env --default-signal=INT PROCURA_TEST_DB=postgresql \
  .venv/bin/pytest -q --basetemp="$temp/postgresql" "$@" > "$temp/postgresql.log" 2>&1 &
pg=$!
echo "=== tests on sqlite (the PostgreSQL pass runs meanwhile) ==="
PROCURA_TEST_DB=sqlite .venv/bin/pytest -q --basetemp="$temp/sqlite" "$@"
sqlite_status=$?
wait "$pg"
pg_status=$?
while kill -0 "$pg" 2>/dev/null; do  # a trap interrupted the wait
  wait "$pg"
  pg_status=$?
done
echo "=== tests on postgresql ==="
cat "$temp/postgresql.log"
results=()
status=0
for pass in "sqlite:$sqlite_status" "postgresql:$pg_status"; do
  if [ "${pass#*:}" = 0 ]; then
    results+=("${pass%%:*}: passed")
  else
    results+=("${pass%%:*}: FAILED")
    status=1
  fi
done
printf '%s\n' "=== results ===" "${results[@]}"
exit $status
