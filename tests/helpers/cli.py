"""Run the real ``castmill`` CLI in-process (CliRunner) or as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from pipeline.cli.root import cli


def castmill(*args: str, env: dict | None = None):
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def castmill_json(*args: str):
    result = castmill(*args, "--json")
    return result, json.loads(result.stdout)


def castmill_process(*args: str, **popen) -> subprocess.Popen:
    """Start the CLI as its own process (for kill -9 and memory tests)."""
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], env=dict(os.environ), **popen)
