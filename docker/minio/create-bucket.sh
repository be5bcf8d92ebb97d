#!/bin/sh
# One-shot job of the `minio-init` service (image minio/mc): create the landing bucket the ingest DAGs read.
# Idempotent: safe on every `docker compose up`. Reads MINIO_ROOT_USER, MINIO_ROOT_PASSWORD and RECON_S3_BUCKET
# (the same variables docker-compose.yml passes to minio and to Airflow).
set -eu

endpoint="${MINIO_ENDPOINT:-http://minio:9000}"
bucket="${RECON_S3_BUCKET:?RECON_S3_BUCKET must be set on the minio-init service}"

# minio is already healthy (depends_on), but retry a little in case its API is still warming up.
tries=0
until mc alias set recon "${endpoint}" "${MINIO_ROOT_USER}" "${MINIO_ROOT_PASSWORD}" >/dev/null; do
  tries=$((tries + 1))
  if [ "${tries}" -ge 30 ]; then
    echo "minio-init: cannot reach ${endpoint} with MINIO_ROOT_USER/MINIO_ROOT_PASSWORD" >&2
    exit 1
  fi
  sleep 2
done

mc mb --ignore-existing "recon/${bucket}"
echo "minio-init: bucket s3://${bucket} is ready at ${endpoint}"
