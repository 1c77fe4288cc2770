"""benchmarks/der.py (the DER scorer, not a package) loaded as a module for the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("castmill_der", ROOT / "benchmarks" / "der.py")
der_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = der_module  # dataclasses look their module up while the class is built
_spec.loader.exec_module(der_module)
