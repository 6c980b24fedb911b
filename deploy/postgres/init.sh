#!/bin/bash
# One database and one user per service: no service can reach another's tables. Run by the
# postgres image on its first start only (an empty data directory), with each user's
# password from the environment (<SERVICE>_DB_PASSWORD, from `.env`: `procura compose-env`).
set -euo pipefail
for service in identity catalog orders approvals reporting notifications punchout; do
  variable="${service^^}_DB_PASSWORD"
  password="${!variable:?$variable is not set: run procura compose-env (README)}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v name="$service" -v password="$password" <<'SQL'
CREATE USER :"name" WITH PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
