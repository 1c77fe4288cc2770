"""Progress reporting for long batch work: a null reporter and a rich one."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Reporter(Protocol):
    def started(self, source: str, title: str) -> None: ...
    def stage(self, source: str, stage: str, total_seconds: float, title: str = "") -> None: ...
    def advance(self, source: str, seconds_done: float) -> None: ...
    def finished(self, source: str, message: str) -> None: ...
    def failed(self, source: str, error: str) -> None: ...


class NullReporter:
    def started(self, source, title): pass
    def stage(self, source, stage, total_seconds, title=""): pass
    def advance(self, source, seconds_done): pass
    def finished(self, source, message): pass
    def failed(self, source, error): pass


class RichReporter:
    """One bar per episode; its total is the episode's duration in seconds of audio."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.fields[title]}", justify="left"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> "RichReporter":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def _task(self, source: str, title: str = "") -> TaskID:
        if source not in self.tasks:
            label = (title or source)[-48:]
            self.tasks[source] = self.progress.add_task("", total=None, title=label, status="queued")
        return self.tasks[source]

    def started(self, source, title):
        self.progress.update(self._task(source, title), status="ingesting")

    def stage(self, source, stage, total_seconds, title=""):
        fields = {"title": title[-48:]} if title else {}
        self.progress.update(self._task(source), total=max(total_seconds, 1.0), completed=0, status=f"{stage}…", **fields)

    def advance(self, source, seconds_done):
        self.progress.update(self._task(source), completed=seconds_done)

    def finished(self, source, message):
        task = self._task(source)
        total = self.progress.tasks[self._index(task)].total or 1
        self.progress.update(task, total=total, completed=total, status=f"[green]{message}")

    def failed(self, source, error):
        task = self._task(source)
        if self.progress.tasks[self._index(task)].total is None:  # stop the "working" pulse
            self.progress.update(task, total=1, completed=0)
        self.progress.update(task, status="[red]failed")
        self.progress.console.print(f"[red]error:[/red] {escape(error)}", markup=True, highlight=False, soft_wrap=True)

    def _index(self, task: TaskID) -> int:
        return next(i for i, t in enumerate(self.progress.tasks) if t.id == task)
