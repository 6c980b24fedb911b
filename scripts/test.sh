#!/usr/bin/env bash
# The whole test suite, once on SQLite and once on PostgreSQL, against the real RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/procura check-broker
for db in sqlite postgresql; do
  echo "=== tests on $db ==="
  PROCURA_TEST_DB=$db .venv/bin/pytest -q "$@"
done
