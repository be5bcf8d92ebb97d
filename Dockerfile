# recon's Airflow image: Airflow 3.3 + the recon package + dbt in its own virtualenv.
#
#   docker compose build            (docker-compose.yml builds this image for every Airflow service)
#
# Two Python environments, because dbt-core 1.7's pins conflict with Airflow 3's:
#   - Airflow's (the base image's /home/airflow/.local venv): requirements.txt + recon (plugins/recon)
#   - /opt/dbt-venv:                            requirements-dbt.txt; cosmos calls /opt/dbt-venv/bin/dbt
#     (RECON_DBT_EXECUTABLE in docker-compose.yml must point there)
#
# Keep AIRFLOW_VERSION, the tag below and the apache-airflow pin in requirements.txt equal:
# tests/unit/test_docker_compose.py checks it, and pip refuses to build if they differ.
ARG AIRFLOW_VERSION=3.3.0
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
ARG DBT_VENV=/opt/dbt-venv

# --- dbt virtualenv (as root, read-only for the airflow user) -----------------------------------------------
USER root
COPY requirements-dbt.txt /opt/recon/requirements-dbt.txt
# Explicit venv pip: as root, `pip` on PATH is the base image's guard script that refuses to run.
# PIP_USER=false in case a base image sets PIP_USER=true, which pip rejects inside a virtualenv.
RUN python -m venv "${DBT_VENV}" \
    && PIP_USER=false "${DBT_VENV}/bin/pip" install --no-cache-dir -r /opt/recon/requirements-dbt.txt \
    && "${DBT_VENV}/bin/dbt" --version

# --- Airflow environment (as the airflow user, like every official-image extension) -------------------------
USER airflow
COPY --chown=airflow:0 requirements.txt /opt/recon/requirements.txt
# Pinning apache-airflow to the base image's version (no constraints file) makes pip fail instead of
# silently up- or downgrading Airflow when requirements.txt and the image tag disagree.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/recon/requirements.txt

# The recon package (gives the `recon` CLI). Installed editable from /opt/airflow/plugins, the folder
# docker-compose.yml bind-mounts ./plugins onto, so the mounted code is what runs: no stale copy in
# site-packages shadowing it (Airflow only appends the plugins folder to sys.path).
COPY --chown=airflow:0 pyproject.toml /opt/airflow/pyproject.toml
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
RUN pip install --no-cache-dir --no-deps -e /opt/airflow \
    && recon --help >/dev/null

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 dbt_project/ /opt/airflow/dbt_project/

# Where the package finds things inside the image (its defaults are relative to the repository checkout).
ENV RECON_REPO_DIR=/opt/airflow \
    RECON_SOURCES_DIR=/opt/airflow/dags/sources \
    RECON_DBT_PROJECT_DIR=/opt/airflow/dbt_project \
    RECON_DBT_PROFILES_DIR=/opt/airflow/dbt_project \
    RECON_DBT_EXECUTABLE=${DBT_VENV}/bin/dbt \
    RECON_WORK_DIR=/tmp/recon-work \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
