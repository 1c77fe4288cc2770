"""`castmill serve` and its supervisor with real processes: the dashboard answering on a free port, a scheduler
killed with SIGKILL and started again, a clean stop on SIGTERM with no process left, children that crash given
up on without busy-looping, the backoff doubling and starting over, workers refused on SQLite; and `castmill
dashboard` becoming Streamlit itself."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from pipeline.core.errors import ConfigError
from pipeline.serve.options import ServeOptions
from pipeline.serve.supervisor import ChildSpec, Supervisor
from tests.helpers.processes import free_port
from tests.helpers.cli import castmill, castmill_process

STARTUP_SECONDS = 60
STARTED = re.compile(r"started (\S+) \(pid (\d+)\)")
# Short timings for the library's tests; `castmill serve` runs with the defaults.
QUICK = ServeOptions(restart_delay=0.2, max_restart_delay=0.8, healthy_after=1.0, fast_exit=0.9, give_up_after=3,
                     stop_grace=5.0, poll_interval=0.05)


# --- castmill serve, end to end ---------------------------------------------------------------------------

def wait_for(what: str, condition, serve: subprocess.Popen, log: Path, seconds: float = STARTUP_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (found := condition()):
            return found
        if serve.poll() is not None:
            raise AssertionError(f"exited ({serve.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {seconds} s:\n{log.read_text()[-3000:]}")


def started(log: Path) -> list[tuple[str, int]]:
    return [(name, int(pid)) for name, pid in STARTED.findall(log.read_text())]


def claiming(log: Path, pid: int) -> bool:
    """The scheduler with this pid said it runs its claim loop (its worker id is host:pid)."""
    return re.search(rf"^scheduler \| scheduler \S+:{pid}: claiming every", log.read_text(), re.M) is not None


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/_stcore/health", timeout=2).text == "ok"
    except requests.ConnectionError:
        return False


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def end(process: subprocess.Popen, pids: list[int]) -> None:
    """After a failed test: nothing of it left running."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_serve_starts_again_a_killed_scheduler_and_stops_everything_on_sigterm(castmill_home, tmp_path):
    assert castmill("init").exit_code == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        serve = castmill_process("serve", "--port", str(port), "--address", "127.0.0.1", stdout=sink,
                                 stderr=subprocess.STDOUT)
    pids: list[int] = []
    try:
        wait_for("dashboard answering", lambda: healthy(url), serve, log)
        children = dict(wait_for("two children", lambda: len(started(log)) >= 2 and started(log), serve, log))
        pids += children.values()
        scheduler, dashboard = children["scheduler"], children["dashboard"]
        assert parent_of(scheduler) == serve.pid and command_line(scheduler)[-2:] == ["scheduler", "run"]
        assert parent_of(dashboard) == serve.pid and "streamlit" in command_line(dashboard)
        text = log.read_text()
        assert f"dashboard: http://127.0.0.1:{port} (listening on 127.0.0.1:{port})" in text
        assert f"daily backup: at 03:30 local time into {castmill_home / 'backups'}, keeping 14; next " in text

        wait_for("the scheduler claiming", lambda: claiming(log, scheduler), serve, log)

        os.kill(scheduler, signal.SIGKILL)
        restarted = wait_for("a new scheduler", lambda: [pid for name, pid in started(log)
                                                         if name == "scheduler" and pid != scheduler], serve, log, 20)
        pids += restarted
        assert len(restarted) == 1 and running(restarted[0]) and parent_of(restarted[0]) == serve.pid
        assert re.search(rf"scheduler \(pid {scheduler}\) was killed by SIGKILL after [\d.]+ s; "
                         r"starting it again in 1 s", log.read_text())
        assert healthy(url) and running(dashboard), "the other children were left alone"
        wait_for("the new scheduler claiming", lambda: claiming(log, restarted[0]), serve, log, 30)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=45) == 0, log.read_text()[-3000:]
    finally:
        end(serve, pids)
    assert not [pid for pid in pids if running(pid)], "no child outlives castmill serve"
    text = log.read_text()
    assert f"dashboard (pid {dashboard}) stopped: exited with status 0" in text
    assert f"scheduler (pid {restarted[0]}) stopped: exited with status 0\n" in text
    assert "scheduler | " in text and "dashboard | " in text, "children's lines carry their name"


def test_workers_on_sqlite_are_refused_in_one_line_before_anything_starts(castmill_home):
    for args, toml in ((["--workers", "2"], None), ([], "[server]\nworkers = 1\n")):
        if toml:
            castmill_home.mkdir(parents=True, exist_ok=True)
            (castmill_home / "castmill.toml").write_text(toml)
        serve = castmill_process("serve", "--no-backup", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        try:
            out, err = serve.communicate(timeout=60)
        finally:
            end(serve, [])
        assert serve.returncode == 1
        assert out == ""
        assert err.count("\n") == 1 and err.startswith(
            "error: workers need the job queue, which lives in a PostgreSQL database, and this home uses sqlite "
            f"(sqlite:///{castmill_home / 'castmill.db'}): set [storage] database_url"), err
        assert "--workers 0" in err
        assert not (castmill_home / "castmill.db").exists(), "refused before the database was opened"


def test_castmill_dashboard_becomes_streamlit_in_the_same_process(castmill_home, tmp_path):
    assert castmill("init").exit_code == 0
    port = free_port()
    log = tmp_path / "dashboard.log"
    with log.open("wb") as sink:
        dashboard = castmill_process("dashboard", "--port", str(port), "--address", "127.0.0.1", stdout=sink,
                                     stderr=subprocess.STDOUT)
    try:
        wait_for("dashboard answering", lambda: healthy(f"http://127.0.0.1:{port}"), dashboard, log)
        argv = command_line(dashboard.pid)
        assert argv[1:4] == ["-m", "streamlit", "run"] and argv[argv.index("--server.port") + 1] == str(port)
        assert "--server.enableXsrfProtection" in argv
        dashboard.terminate()
        assert dashboard.wait(timeout=30) == 0
    finally:
        end(dashboard, [])
    assert f"dashboard: http://127.0.0.1:{port} (listening on 127.0.0.1:{port})" in log.read_text()
    assert argv[argv.index("--browser.serverPort") + 1] == str(port), "Streamlit names the port it listens on"


# --- the supervisor itself --------------------------------------------------------------------------------

def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def stamping(path: Path, then: str) -> tuple[str, ...]:
    """A child that writes its start time to ``path``, then runs ``then``."""
    return python(f"import sys, time\nopen({str(path)!r}, 'a').write(f'{{time.time()}}\\n')\n{then}")


def messages(caplog, level=logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "castmill.serve" and r.levelno >= level]


def until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_child_that_keeps_crashing_is_given_up_on_with_growing_waits_and_the_others_keep_running(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="castmill.serve")
    starts = tmp_path / "starts"
    out, err = io.BytesIO(), io.BytesIO()
    supervisor = Supervisor([
        ChildSpec("crasher", stamping(starts, "print('cannot go on', file=sys.stderr); sys.exit(3)")),
        ChildSpec("steady", python("import time\nprint('up', flush=True)\nwhile True: time.sleep(1)")),
    ], QUICK, out=out, err=err)
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(supervisor.run()))
    runner.start()
    try:
        until(lambda: any("given up on" in m for m in messages(caplog)))
        steady = supervisor.pids()["steady"]
        time.sleep(1.0)  # a given-up child stays down
        assert "crasher" not in supervisor.pids() and running(steady)
    finally:
        supervisor.stop()
        runner.join(timeout=30)
    assert outcome == [0]
    assert not running(steady)

    times = [float(line) for line in starts.read_text().split()]
    assert len(times) == QUICK.give_up_after
    waits = [later - earlier for earlier, later in zip(times, times[1:])]
    assert waits[0] >= 0.2 and waits[1] >= 0.4, f"the wait doubles after each fast exit: {waits}"
    failing = [m for m in messages(caplog, logging.ERROR)]
    assert len(failing) == 1 and re.fullmatch(
        r"crasher \(pid \d+\) exited with status 3 after [\d.]+ s: given up on after 3 exits in a row within "
        r"0.9 s of starting; still running: steady\. Its output above says why: fix that, then restart castmill "
        r"serve", failing[0]), failing
    assert err.getvalue().count(b"crasher | cannot go on\n") == 3
    assert out.getvalue().startswith(b"steady | up\n")


def test_the_wait_doubles_up_to_its_cap_and_starts_over_after_a_healthy_run(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="castmill.serve")
    options = ServeOptions(restart_delay=0.2, max_restart_delay=0.8, healthy_after=1.5, fast_exit=0.05,
                           give_up_after=2, stop_grace=5.0, poll_interval=0.05)
    supervisor = Supervisor([ChildSpec("short", python("import time; time.sleep(0.2)")),
                             ChildSpec("long", python("import time; time.sleep(1.6)"))], options,
                            out=io.BytesIO(), err=io.BytesIO())

    def waits(name: str) -> list[str]:
        return [m.rsplit(" in ", 1)[1] for m in messages(caplog, logging.WARNING) if m.startswith(f"{name} (pid")]

    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(supervisor.run()))
    runner.start()
    try:
        until(lambda: len(waits("short")) >= 5 and len(waits("long")) >= 2)
    finally:
        supervisor.stop()
        runner.join(timeout=30)
    assert outcome == [0]
    assert waits("short")[:5] == ["0.2 s", "0.4 s", "0.8 s", "0.8 s", "0.8 s"]
    assert set(waits("long")) == {"0.2 s"}, "a run longer than healthy_after starts the waits over"
    assert not any("given up" in m for m in messages(caplog)), "runs longer than fast_exit are never given up on"


def test_the_supervisor_exits_1_once_every_child_is_given_up_on(caplog):
    caplog.set_level(logging.INFO, logger="castmill.serve")
    began = time.monotonic()
    code = Supervisor([ChildSpec("broken", python("raise SystemExit(2)")),
                       ChildSpec("missing", ("/nonexistent/castmill-binary",))], QUICK,
                      out=io.BytesIO(), err=io.BytesIO()).run()
    assert code == 1
    assert time.monotonic() - began >= 0.2 + 0.4, "it waited between the tries"
    errors = messages(caplog, logging.ERROR)
    assert errors[-1] == "every process has been given up on: castmill serve stops"
    assert any(m.startswith("missing could not start: No such file or directory: /nonexistent/castmill-binary: "
                            "given up on after 3 exits") for m in errors), errors


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(caplog):
    caplog.set_level(logging.INFO, logger="castmill.serve")
    options = dataclasses.replace(QUICK, stop_grace=0.5)
    stubborn = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n" \
               "while True: time.sleep(1)"
    out = io.BytesIO()
    supervisor = Supervisor([ChildSpec("stubborn", python(stubborn))], options, out=out, err=io.BytesIO())
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(supervisor.run()))
    runner.start()
    try:
        until(lambda: b"stubborn | ready" in out.getvalue())
        pid = supervisor.pids()["stubborn"]
        began = time.monotonic()
        supervisor.stop()
        runner.join(timeout=30)
    finally:
        supervisor.stop()
    assert outcome == [0] and not running(pid)
    assert time.monotonic() - began >= 0.5
    assert f"stubborn (pid {pid}): killed (it did not stop within 0.5 s)" in messages(caplog)
    assert f"stubborn (pid {pid}) stopped: was killed by SIGKILL" in messages(caplog)


def test_the_help_states_the_timings_serve_runs_with():
    defaults = ServeOptions()
    text = " ".join(castmill("serve", "--help").stdout.split())
    assert (f"started again (after {defaults.restart_delay:g} s, doubling up to {defaults.max_restart_delay:g} s); "
            f"one that exits within {defaults.fast_exit:g} s of starting {defaults.give_up_after} times in a row is "
            "given up on") in text
    assert f"(SIGKILL after {defaults.stop_grace:g} s)" in text


@pytest.mark.parametrize("fields, named", [
    ({"restart_delay": 0}, "restart_delay"),
    ({"restart_delay": 5, "max_restart_delay": 1}, "max_restart_delay"),
    ({"fast_exit": 90}, "healthy_after"),
    ({"give_up_after": 0}, "give_up_after"),
    ({"stop_grace": -1}, "stop_grace"),
    ({"poll_interval": 2}, "poll_interval"),
])
def test_impossible_timings_are_refused_naming_the_field(fields, named):
    with pytest.raises(ConfigError, match=named):
        ServeOptions(**fields)
