"""Castmill's processes under one supervisor (``castmill serve``): the dashboard, the scheduler and N workers.

Every line a child writes reaches the supervisor's own stdout or stderr (the stream the child wrote it to),
prefixed with the child's name, e.g. ``scheduler | 2026-12-06 03:30:00 INFO castmill.publish: …``: under
systemd it all lands in the journal of the one unit (``journalctl -u castmill``), nothing under the home.
The supervisor's own lines come from the ``castmill.serve`` logger.

A child that exits is started again after a wait that doubles with each exit (``ServeOptions``) and starts
over once a run lasted long enough. A child that exits right after its start several times in a row is given
up on with one logged line; the others keep running, and the supervisor exits 1 once none is left.
SIGTERM or SIGINT stops every child: SIGTERM to each, a grace period, then SIGKILL; a second signal kills
at once. Each child runs in its own process group, so a Ctrl-C in a terminal reaches the supervisor only,
and a stop reaches whatever the child itself started.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import make_url

from pipeline.core.errors import ConfigError
from pipeline.core.settings import Settings
from pipeline.serve.dashboard import ROOT, streamlit_command, streamlit_env
from pipeline.serve.options import ServeOptions
from pipeline.store.db import safe_url

log = logging.getLogger("castmill.serve")

DASHBOARD, SCHEDULER, WORKER = "dashboard", "scheduler", "worker"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class ChildSpec:
    name: str  # in the supervisor's log lines and before each line of its output, e.g. "worker-2"
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None  # None: the supervisor's own environment
    cwd: Path | None = None


# --- what `castmill serve` runs ------------------------------------------------------------------------

def service_children(settings: Settings, *, dashboard: bool = True, scheduler: bool = True, workers: int = 0,
                     port: int | None = None, address: str | None = None) -> list[ChildSpec]:
    """The children of ``castmill serve`` for this home. Workers on a database without a job queue are refused
    here, before anything starts."""
    if workers:
        require_queue_database(settings)
    env = {**os.environ, "CASTMILL_HOME": str(settings.home), "PYTHONUNBUFFERED": "1"}
    children = []
    if dashboard:
        children.append(ChildSpec(DASHBOARD, tuple(streamlit_command(settings, port=port, address=address)),
                                  streamlit_env(settings, env), cwd=ROOT))
    if scheduler:
        children.append(ChildSpec(SCHEDULER, castmill_argv(settings, "scheduler", "run"), env))
    children += [ChildSpec(f"{WORKER}-{n}", castmill_argv(settings, "worker"), env) for n in range(1, workers + 1)]
    return children


def castmill_argv(settings: Settings, *args: str) -> tuple[str, ...]:
    """``castmill --home HOME …`` run by this interpreter (the venv's, whatever PATH says)."""
    return (sys.executable, "-m", "pipeline.cli", "--home", str(settings.home), *args)


def require_queue_database(settings: Settings) -> None:
    backend = make_url(settings.database_url).get_backend_name()
    if backend != "postgresql":
        raise ConfigError(f"workers need the job queue, which lives in a PostgreSQL database, and this home uses "
                          f"{backend} ({safe_url(settings.database_url)}): set [storage] database_url or "
                          "CASTMILL_DATABASE_URL to a postgresql+psycopg:// URL, or run no workers ([server] workers "
                          "= 0, or --workers 0) and process episodes with `castmill process`")


# --- the supervisor ------------------------------------------------------------------------------------

class _Child:
    """One supervised process and its restart bookkeeping."""

    def __init__(self, spec: ChildSpec):
        self.spec = spec
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.short_runs = 0  # runs in a row that ended before ServeOptions.healthy_after
        self.fast_exits = 0  # runs in a row that ended within ServeOptions.fast_exit
        self.start_at: float | None = 0.0  # when to start it next; None while it runs, and once given up
        self.pumps: list[threading.Thread] = []

    @property
    def given_up(self) -> bool:
        return self.process is None and self.start_at is None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, children: list[ChildSpec], options: ServeOptions | None = None, *,
                 out: BinaryIO | None = None, err: BinaryIO | None = None):
        self.options = options or ServeOptions()
        self._children = [_Child(spec) for spec in children]
        self._sinks = (out or sys.stdout.buffer, err or sys.stderr.buffer)
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._signals = 0
        self._signal_name = ""

    def run(self) -> int:
        """Start every child and keep them running until stopped (0), or until every one is given up on (1)."""
        with self._signals_handled():
            self._tend(time.monotonic())
            while not self._stop.wait(self.options.poll_interval):
                self._tend(time.monotonic())
                if self._children and all(child.given_up for child in self._children):
                    log.error("every process has been given up on: castmill serve stops")
                    return 1
            self._stop_children()
        return 0

    def stop(self) -> None:
        """Ask ``run`` to stop every child and return (from any thread)."""
        self._stop.set()

    def pids(self) -> dict[str, int]:
        """The running children's process ids by name."""
        return {c.spec.name: c.process.pid for c in self._children if c.process is not None}

    # --- starting and restarting -------------------------------------------------------------------

    def _tend(self, now: float) -> None:
        for child in self._children:
            if child.process is not None:
                code = child.process.poll()
                if code is not None:
                    _drain(child)
                    ran = now - child.started_at
                    self._exited(child, f"(pid {child.process.pid}) {_ending(code)} after {ran:.1f} s", now)
            elif child.start_at is not None and now >= child.start_at:
                self._start(child, now)

    def _start(self, child: _Child, now: float) -> None:
        spec = child.spec
        child.started_at, child.start_at = now, None
        try:
            child.process = subprocess.Popen(spec.argv, env=spec.env, cwd=spec.cwd, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0)
        except OSError as exc:
            self._exited(child, f"could not start: {exc.strerror or exc}: {spec.argv[0]}", now)
            return
        log.info("started %s (pid %d)", spec.name, child.process.pid)
        log.debug("%s: %s", spec.name, " ".join(spec.argv))
        prefix = f"{spec.name} | ".encode()
        child.pumps = [threading.Thread(target=self._pump, args=(stream, sink, prefix), daemon=True,
                                        name=f"{spec.name}-output")
                       for stream, sink in zip((child.process.stdout, child.process.stderr), self._sinks)]
        for pump in child.pumps:
            pump.start()

    def _exited(self, child: _Child, how: str, now: float) -> None:
        options, ran = self.options, now - child.started_at
        child.process = None
        child.short_runs = 1 if ran >= options.healthy_after else child.short_runs + 1
        child.fast_exits = child.fast_exits + 1 if ran <= options.fast_exit else 0
        name = child.spec.name
        if child.fast_exits >= options.give_up_after:
            others = [c.spec.name for c in self._children if c is not child and not c.given_up]
            log.error("%s %s: given up on after %d exits in a row within %g s of starting%s. Its output above says "
                      "why: fix that, then restart castmill serve", name, how, child.fast_exits, options.fast_exit,
                      f"; still running: {', '.join(others)}" if others else "")
            return
        delay = options.delay_after(child.short_runs)
        child.start_at = now + delay
        log.warning("%s %s; starting it again in %g s", name, how, delay)

    def _pump(self, source: BinaryIO, sink: BinaryIO, prefix: bytes) -> None:
        """Copy a child's lines to ``sink`` until it closes its end; a sink that fails is skipped, never left
        unread (a full pipe would block the child)."""
        with source:
            for line in iter(source.readline, b""):
                with self._write_lock:
                    try:
                        sink.write(prefix + line + (b"" if line.endswith(b"\n") else b"\n"))
                        sink.flush()
                    except (OSError, ValueError):
                        pass

    # --- stopping ------------------------------------------------------------------------------------

    @contextmanager
    def _signals_handled(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.signal(number, self._on_signal) for number in STOP_SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _on_signal(self, number: int, _frame) -> None:
        # Only flags here: the main loop does the logging and the signalling.
        self._signals += 1
        self._signal_name = signal.Signals(number).name
        self._stop.set()

    def _stop_children(self) -> None:
        running = [child for child in self._children if child.alive()]
        if not running:
            return
        log.info("%s: stopping %s (SIGTERM now, SIGKILL after %g s)", self._signal_name or "asked to stop",
                 ", ".join(c.spec.name for c in running), self.options.stop_grace)
        for child in running:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self.options.stop_grace
        while any(child.alive() for child in running) and time.monotonic() < deadline and self._signals < 2:
            time.sleep(min(self.options.poll_interval, 0.05))
        for child in running:
            self._finish(child)

    def _finish(self, child: _Child) -> None:
        process = child.process
        if process.poll() is None:
            why = "a second signal" if self._signals >= 2 else f"it did not stop within {self.options.stop_grace:g} s"
            log.warning("%s (pid %d): killed (%s)", child.spec.name, process.pid, why)
            _signal_group(process, signal.SIGKILL)
        code = process.wait()
        _drain(child)
        log.info("%s (pid %d) stopped: %s", child.spec.name, process.pid, _ending(code))
        child.process, child.start_at = None, None


def _drain(child: _Child) -> None:
    """Let the output of a child that exited reach the log before the line that says so (bounded: anything
    the child started may still hold its pipes)."""
    for pump in child.pumps:
        pump.join(timeout=1)


def _signal_group(process: subprocess.Popen, number: int) -> None:
    """``number`` to the child's process group (the child is its leader, not yet reaped)."""
    try:
        os.killpg(process.pid, number)
    except ProcessLookupError:
        pass


def _ending(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"
