# The Superset image of docker-compose.yaml: Python 3.11 with the dashboards' pinned venv
# (requirements-superset.lock: apache-superset 6.1.0 and the three packages its metadata misses,
# duckdb-engine, DuckDB 2.0.0, psycopg2 for the Postgres metadata DB). The repository (config,
# dashboards as code, user groups) is mounted at /opt/fsdp; the serving copy comes from the
# fsdp-data volume the Airflow DAG publishes into.
FROM python:3.11.11-slim-bookworm
COPY requirements-superset.lock /tmp/
# --no-deps: the lock is the complete transitive set (scripts/lock.sh)
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements-superset.lock \
 && apt-get update -qq && apt-get install -y -qq --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 50000 superset
ENV SUPERSET_CONFIG_PATH=/opt/fsdp/include/dashboards/superset_config.py \
    PYTHONPATH=/opt/fsdp \
    FLASK_APP=superset
USER superset
WORKDIR /opt/fsdp
