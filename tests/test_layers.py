"""The package's shape, enforced: layers without cycles, and nothing the layers contract leaves out.

``lint-imports`` (run by make test) checks the layers contract in pyproject.toml. These tests add
what it does not: no import cycle among any of the library's modules, every package placed in a
layer, and only a handful of modules at the top of ``pipeline``.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL_MODULES = {"__init__.py", "batch.py"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("pipeline", "dashboard")


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    return [name.strip() for layer in layers for name in layer.split("|")]


def test_lint_imports_keeps_every_contract():
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_of_the_library_is_part_of_an_import_cycle(graph):
    modules = sorted(m for m in graph.modules if m.startswith("pipeline"))
    cycles = []
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                cycles.append(graph.find_shortest_chain(importer=imported, imported=module) + (imported,))
    assert cycles == []


def test_every_package_of_the_library_sits_in_a_layer():
    packages = {f"pipeline.{p.name}" for p in (ROOT / "pipeline").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {f"pipeline.{p.stem}" for p in (ROOT / "pipeline").glob("*.py") if p.name != "__init__.py"}
    assert packages - set(_layers()) == set()


def test_only_a_handful_of_modules_remain_at_the_top_of_the_package():
    assert {p.name for p in (ROOT / "pipeline").glob("*.py")} == TOP_LEVEL_MODULES


def test_a_broken_layer_is_caught(tmp_path):
    """The contract can fail: a store module importing the review layer is reported."""
    offender = ROOT / "pipeline" / "store" / "_layer_probe.py"
    offender.write_text("from pipeline import review  # noqa: F401\n")
    try:
        result = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                                capture_output=True, text=True)
    finally:
        offender.unlink()
    assert result.returncode == 1
    assert "pipeline.store._layer_probe -> pipeline.review" in result.stdout
