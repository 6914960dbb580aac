"""Progress of a long command (`azkz build`, `azkz fetch`), reported while it runs.

A log is a context manager: the command runs inside `with log:`.  The plain one writes
lines through `echo` (nothing by default: the library is silent unless asked), which the
CLI points at stderr when it is not a terminal; a rich one shows a live display (a
spinner, progress bars), started on entering and stopped on leaving, even on error.
Each command's log adds the events it reports (`BuildLog.step`, `FetchLog.done`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ProgressLog:
    """Plain progress lines through `echo`; `display` (rich) runs while the log is open."""

    display: Any = None  # an object with start() and stop(): rich's Status or Progress

    def __init__(self, echo: Callable[[str], None] = lambda _line: None):
        self.echo = echo

    def __enter__(self):
        if self.display is not None:
            self.display.start()
        return self

    def __exit__(self, *_exc) -> None:
        if self.display is not None:
            self.display.stop()
