"""`python -m include.catalog push ...`: see include/catalog/cli.py (runs in .venv-catalog)."""
import sys

from include.catalog.cli import main

sys.exit(main())
