"""Quality gate of the data product: SodaCL checks (checks/<table>.yml), per-run column profiles,
and their history in the warehouse. Entry point: ``run_quality`` (see gate.py); CLI:
``python -m include.quality --help``. Only soda_runner.py imports Soda.
"""
from include.quality.gate import PRODUCT_TABLES, QualityGateFailed, QualityResult, run_quality
from include.quality.profiles import SEED_PROFILE_FILTER

__all__ = ["run_quality", "QualityResult", "QualityGateFailed", "PRODUCT_TABLES", "SEED_PROFILE_FILTER"]
