# The Airflow image of docker-compose.yaml: the official Airflow 3.3.2 image plus the project's
# pinned Python dependencies (requirements.lock, the same set as the local .venv), and the
# catalog step's own virtualenv (requirements-catalog.lock: openmetadata-ingestion cannot share a
# venv with soda-core, see requirements-catalog.txt), found through FSDP_CATALOG_PYTHON.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.lock requirements-catalog.lock /tmp/
# --no-deps: the lock is the complete transitive set, and it deliberately breaks one declared cap
# (duckdb 2.0.0 against soda-core-duckdb's duckdb<1.1.0, see requirements.txt / overrides.txt).
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.lock \
 && python -m venv /home/airflow/venv-catalog \
 && /home/airflow/venv-catalog/bin/pip install --no-cache-dir -r /tmp/requirements-catalog.lock
ENV FSDP_CATALOG_PYTHON=/home/airflow/venv-catalog/bin/python
