#!/bin/sh
# Writes .env for docker-compose.yml: the settings of .env.example, with a new random value for every secret that
# has none (passwords, the JWT / API secrets, the Fernet key). Nothing secret is committed: .env is git-ignored, and
# docker-compose.yml refuses to start without these values (${VAR:?...}).
#
#   docker/generate-env.sh            # creates .env (mode 600) or fills the secrets it still lacks
#   docker/generate-env.sh path/.env  # another file
#
# Values already set in the file are kept, so running it again changes nothing (and a database volume made with
# the old passwords keeps working). Secrets never appear on the terminal. Values are URL-safe (letters, digits,
# - and _): they are pasted into the connection URIs as they are.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$repo/.env}"
example="$repo/.env.example"
# The secret variables: empty in .env.example, generated here.
SECRETS="AIRFLOW_ADMIN_PASSWORD AIRFLOW_JWT_SECRET AIRFLOW_API_SECRET_KEY AIRFLOW__CORE__FERNET_KEY POSTGRES_PASSWORD
RECON_DB_PASSWORD MYSQL_ROOT_PASSWORD RECON_LOADER_PASSWORD RECON_TRANSFORMER_PASSWORD RECON_ANALYST_PASSWORD
MINIO_ROOT_PASSWORD"

random_value() {  # $1 bytes of randomness, base64url without padding
    head -c "$1" /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'
}

fernet_key() {  # what cryptography.fernet.Fernet accepts: 32 random bytes, base64url with its padding
    head -c 32 /dev/urandom | base64 | tr -d '\n' | tr '+/' '-_'
}

umask 077
if [ ! -f "$out" ]; then
    cp "$example" "$out"
    echo "wrote $out from .env.example"
fi
chmod 600 "$out"

made=""
for name in $SECRETS; do
    current=$(sed -n "s/^$name=//p" "$out" | tail -n 1)
    if [ -n "$current" ]; then
        continue
    fi
    if [ "$name" = "AIRFLOW__CORE__FERNET_KEY" ]; then
        value=$(fernet_key)
    else
        value=$(random_value 24)
    fi
    tmp="$out.tmp.$$"
    if grep -q "^$name=" "$out"; then
        sed "s|^$name=.*|$name=$value|" "$out" > "$tmp"
    else
        cp "$out" "$tmp"
        printf '%s=%s\n' "$name" "$value" >> "$tmp"
    fi
    mv "$tmp" "$out"
    made="$made $name"
done
chmod 600 "$out"
if [ -n "$made" ]; then
    echo "generated in $out:$made"
else
    echo "$out already has every secret: nothing changed"
fi
