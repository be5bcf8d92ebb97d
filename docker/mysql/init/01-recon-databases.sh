#!/bin/bash
# Runs once, when the mysql container initialises an empty data volume (docker-entrypoint-initdb.d).
# The image has already created the administrative user MYSQL_USER / MYSQL_PASSWORD (RECON_DB_USER /
# RECON_DB_PASSWORD); this creates recon's databases (named from RECON_NAMESPACE, as plugins/recon/settings.py does)
# and the least-privilege users of plugins/recon/access.py, each with the password from .env
# (docker/generate-env.sh makes them):
#
#   <ns>_raw      the loader's tables (file_manifest, landing_*, src_*), reconcile_daily's few (source_settings, ...)
#   <ns>          dbt staging + intermediate models
#   <ns>_marts    dbt marts (fct_*, rpt_*)
#   <ns>_product  the simulated product database (ledger_entries)
#
#   MYSQL_USER         the setup's login only (airflow-init's `recon stack init`, `recon seed`): owns the databases,
#                      creates the tables, manages the users below (WITH GRANT OPTION, CREATE USER)
#   <ns>_loader        the ingest DAGs (recon_warehouse, recon_product_db): here SELECT on <ns>_product; its
#                      table grants on <ns>_raw need the tables, so airflow-init's `recon stack init` adds them
#   <ns>_transformer   dbt and reconcile_daily (recon_transformer): builds <ns> and <ns>_marts (granted on the
#                      databases: dbt drops and recreates its tables); its table grants on <ns>_raw likewise
#   <ns>_analyst       analysts' SQL clients: SELECT and SHOW VIEW on <ns>_marts only
#
# `recon stack init` then resets every user to exactly the grants plugins/recon/access.py declares (the same as
# `recon stack up` makes locally). It is a shell script, not plain SQL, because the namespace and the passwords
# come from the environment. It works both sourced and executed by the entrypoint.
#
# To re-run it: `docker compose down -v` (drops the data volume) and start again. It is idempotent, so it can also
# be run on a live container after changing a password in .env:
#   docker compose up -d mysql && docker compose exec mysql bash /docker-entrypoint-initdb.d/01-recon-databases.sh
# The body runs in subshells so that, when sourced, their shell options and variables stay out of the entrypoint.

recon_check_settings() (
set -euo pipefail
ns="${RECON_NAMESPACE:-recon}"
if [[ ! "${ns}" =~ ^[A-Za-z_][A-Za-z0-9_]{0,47}$ ]]; then
  echo "RECON_NAMESPACE=${ns} is not a valid identifier (letters, digits, _; max 48)" >&2
  exit 1
fi
if [[ ${#ns} -gt 20 ]]; then
  echo "RECON_NAMESPACE=${ns} is too long: MySQL user names (${ns}_transformer) have at most 32 characters" >&2
  exit 1
fi
for var in RECON_LOADER_PASSWORD RECON_TRANSFORMER_PASSWORD RECON_ANALYST_PASSWORD; do
  if [[ ! "${!var:-}" =~ ^[A-Za-z0-9._~-]{16,128}$ ]]; then
    echo "${var} must be 16 to 128 URL-safe characters (letters, digits, - _ . ~): run docker/generate-env.sh" >&2
    exit 1
  fi
done
)

recon_create_databases() (
set -euo pipefail

ns="${RECON_NAMESPACE:-recon}"
user="${MYSQL_USER:?MYSQL_USER must be set on the mysql service}"

if [[ ! "${user}" =~ ^[A-Za-z0-9_.-]{1,32}$ ]]; then
  echo "MYSQL_USER=${user} has characters this script does not quote (use letters, digits, _ . -)" >&2
  exit 1
fi

# `_` is a wildcard in a GRANT database name: escape it, so each grant is on exactly that database.
e="${ns//_/\\_}"

MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`${ns}_raw\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS \`${ns}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS \`${ns}_marts\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS \`${ns}_product\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
GRANT ALL PRIVILEGES ON \`${e}\_raw\`.* TO '${user}'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON \`${e}\`.* TO '${user}'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON \`${e}\_marts\`.* TO '${user}'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON \`${e}\_product\`.* TO '${user}'@'%' WITH GRANT OPTION;
GRANT CREATE USER ON *.* TO '${user}'@'%';
SQL

echo "recon: created ${ns}_raw, ${ns}, ${ns}_marts, ${ns}_product, owned by '${user}'@'%' (the setup's login)"
)

recon_create_loader_user() (
set -euo pipefail
ns="${RECON_NAMESPACE:-recon}"
loader="${ns}_loader"
product_pattern="${ns//_/\\_}\\_product"
raw_pattern="${ns//_/\\_}\\_raw"

MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS '${loader}'@'%' IDENTIFIED BY '${RECON_LOADER_PASSWORD}';
ALTER USER '${loader}'@'%' IDENTIFIED BY '${RECON_LOADER_PASSWORD}';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '${loader}'@'%';
GRANT SELECT ON \`${product_pattern}\`.* TO '${loader}'@'%';
-- the audit's GX batches are temporary tables (plugins/recon/gates/gx_runner.py)
GRANT CREATE TEMPORARY TABLES ON \`${raw_pattern}\`.* TO '${loader}'@'%';
SQL

echo "recon: loader user '${loader}'@'%' (its ${ns}_raw table grants come from airflow-init's recon stack init)"
)

recon_create_transformer_user() (
set -euo pipefail
ns="${RECON_NAMESPACE:-recon}"
transformer="${ns}_transformer"
dbt_db_pattern="${ns//_/\\_}"
dbt_marts_pattern="${ns//_/\\_}\\_marts"
# what dbt does in its own databases (plugins/recon/access.py: DBT_PRIVILEGES)
dbt_privileges="SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES, CREATE VIEW, SHOW VIEW"

MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS '${transformer}'@'%' IDENTIFIED BY '${RECON_TRANSFORMER_PASSWORD}';
ALTER USER '${transformer}'@'%' IDENTIFIED BY '${RECON_TRANSFORMER_PASSWORD}';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '${transformer}'@'%';
GRANT ${dbt_privileges} ON \`${dbt_db_pattern}\`.* TO '${transformer}'@'%';
GRANT ${dbt_privileges} ON \`${dbt_marts_pattern}\`.* TO '${transformer}'@'%';
SQL

echo "recon: transformer user '${transformer}'@'%' builds ${ns} and ${ns}_marts (its ${ns}_raw grants: recon stack init)"
)

recon_create_analyst_user() (
set -euo pipefail

ns="${RECON_NAMESPACE:-recon}"
analyst="${ns}_analyst"
password="${RECON_ANALYST_PASSWORD}"

# `_` is a wildcard in a GRANT database name: escape it, so the grant is on exactly <ns>_marts.
marts_pattern="${ns//_/\\_}\\_marts"

MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS '${analyst}'@'%' IDENTIFIED BY '${password}';
ALTER USER '${analyst}'@'%' IDENTIFIED BY '${password}';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '${analyst}'@'%';
GRANT SELECT, SHOW VIEW ON \`${marts_pattern}\`.* TO '${analyst}'@'%';
SQL

echo "recon: analyst user '${analyst}'@'%' may SELECT (and SHOW VIEW) on ${ns}_marts only"
)

# One failure stops the container's initialisation (sourced: `exit` ends the entrypoint, which reports it).
if ! { recon_check_settings && recon_create_databases && recon_create_loader_user && recon_create_transformer_user \
       && recon_create_analyst_user; }; then
  echo "recon: the mysql initialisation failed (see above)" >&2
  exit 1
fi
