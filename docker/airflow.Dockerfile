# The Airflow image of docker-compose.yaml: the official Airflow 3.3.2 image plus the project's
# pinned Python dependencies (requirements.lock, the same set as the local .venv).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir -r /tmp/requirements.lock
