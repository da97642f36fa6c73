"""Apache Superset dashboards over the serving copy: configuration, dashboards as code, access.

Runs in its own venv (.venv-superset); see README.md. The modules importable without Superset
(``assets``, ``access``) are shared with the tests and the catalog push."""
