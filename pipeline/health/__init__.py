"""Health checks across the layers: ``castmill doctor`` and the admin's Health page (``checks``)."""

from pipeline.health.checks import Finding, checks_for, diagnose, run_checks

__all__ = ["Finding", "checks_for", "diagnose", "run_checks"]
