"""Mock data generator: vectorised, deterministic, declarative per entity (see README.md here).

Entry points: ``include.mockgen.runner`` (generate / daily / update_one) and the CLI
``python -m include.mockgen``.
"""
