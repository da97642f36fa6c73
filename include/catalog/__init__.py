"""The catalog step: the data product's metadata in OpenMetadata 2.0.x (include/catalog/README.md).

plan.py      what the catalog holds, read from dbt artifacts + Soda results + data_product.yaml
push.py      sends it with the openmetadata-ingestion SDK (only importable in .venv-catalog)
recorder.py  a recording stand-in for an OpenMetadata server (tests; the no-server default)
cli.py       `python -m include.catalog push ...`
launcher.py  called by the DAG from the main venv: resolves the server, runs the CLI in .venv-catalog
"""
