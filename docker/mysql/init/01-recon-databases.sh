#!/bin/bash
# Runs once, when the mysql container initialises an empty data volume (docker-entrypoint-initdb.d).
# The image has already created the user MYSQL_USER / MYSQL_PASSWORD; this creates recon's databases
# (named from RECON_NAMESPACE, as plugins/recon/settings.py does) and lets that user own them.
#
#   <ns>_raw      the loader's tables (file_manifest, landing_*, src_*)
#   <ns>          dbt staging + intermediate models
#   <ns>_marts    dbt marts (fct_*, rpt_*)
#   <ns>_product  the simulated product database (ledger_entries)
#
# The grant also covers any other `<ns>_*` database, so the loader's and dbt's
# `CREATE DATABASE IF NOT EXISTS` work. It is a shell script, not plain SQL, because the namespace and the
# user name come from the environment. It works both sourced and executed by the entrypoint.
#
# The analysts' read-only user `<ns>_analyst` (as plugins/recon/access.py makes it for the local stack): SELECT and
# SHOW VIEW on `<ns>_marts` only, granted on the database because dbt drops and recreates the mart tables. Its
# password is RECON_ANALYST_PASSWORD from .env; it has no default, so without it the user is not created.
#
# To re-run it: `docker compose down -v` (drops the data volume) and start again. It is idempotent, so it can also
# be run on a live container, e.g. to add the analyst user later (with RECON_ANALYST_PASSWORD set in .env):
#   docker compose up -d mysql && docker compose exec mysql bash /docker-entrypoint-initdb.d/01-recon-databases.sh
# The body runs in a subshell so that, when sourced, its shell options and variables stay out of the entrypoint.

recon_create_databases() (
set -euo pipefail

ns="${RECON_NAMESPACE:-recon}"
user="${MYSQL_USER:?MYSQL_USER must be set on the mysql service}"

if [[ ! "${ns}" =~ ^[A-Za-z_][A-Za-z0-9_]{0,47}$ ]]; then
  echo "RECON_NAMESPACE=${ns} is not a valid identifier (letters, digits, _; max 48)" >&2
  exit 1
fi
if [[ ! "${user}" =~ ^[A-Za-z0-9_.-]{1,32}$ ]]; then
  echo "MYSQL_USER=${user} has characters this script does not quote (use letters, digits, _ . -)" >&2
  exit 1
fi

# `_` is a wildcard in a GRANT database pattern: escape it so `recon\_%` means "recon_" + anything.
ns_pattern="${ns//_/\\_}\\_%"

MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`${ns}_raw\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS \`${ns}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS \`${ns}_marts\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
CREATE DATABASE IF NOT EXISTS \`${ns}_product\` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
GRANT ALL PRIVILEGES ON \`${ns//_/\\_}\`.* TO '${user}'@'%';
GRANT ALL PRIVILEGES ON \`${ns_pattern}\`.* TO '${user}'@'%';
FLUSH PRIVILEGES;
SQL

echo "recon: created ${ns}_raw, ${ns}, ${ns}_marts, ${ns}_product for '${user}'@'%'"
)

recon_create_analyst_user() (
set -euo pipefail

ns="${RECON_NAMESPACE:-recon}"
analyst="${ns}_analyst"
password="${RECON_ANALYST_PASSWORD:-}"

if [[ -z "${password}" ]]; then
  echo "recon: RECON_ANALYST_PASSWORD is not set: no analyst user (set it in .env: see the header of docker/mysql/init/01-recon-databases.sh)"
  return 0
fi
if [[ ${#analyst} -gt 32 ]]; then
  echo "recon: the analyst user name ${analyst} is longer than MySQL's 32 characters: use a shorter RECON_NAMESPACE" >&2
  exit 1
fi
if [[ ! "${password}" =~ ^[A-Za-z0-9._~-]{8,128}$ ]]; then
  echo "RECON_ANALYST_PASSWORD must be 8 to 128 URL-safe characters (letters, digits, - _ . ~)" >&2
  exit 1
fi

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

recon_create_databases
recon_create_analyst_user
