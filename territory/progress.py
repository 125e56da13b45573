"""Progress of the long steps: a live bar on a terminal, sparse plain lines in logs and CI.

The pipeline reports progress as ``progress(message, fraction)``; a message ``"plan: territory
R7"`` belongs to the step before the first ``": "`` (``plan``) and says what was just done.
:func:`reporter` picks how to show it:

- a terminal (stderr is a TTY, ``TERM`` is not ``dumb``, no ``CI`` variable): one tqdm bar per
  step, with elapsed and remaining time;
- anything else (a log file, a pipe, CI): a plain line when a step finishes and at most one
  line per ``interval_s`` while it runs, so logs stay short;
- ``-q``: nothing (warnings and errors are still printed).

Nothing here reaches the output files.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any, Literal

Mode = Literal["bar", "lines", "off"]

#: Seconds between two plain progress lines of one step (the step's end is always shown).
LINE_INTERVAL_S = 30.0


def choose_mode(quiet: bool, stream: IO[str] | None = None) -> Mode:
    """``off`` with ``-q``; ``bar`` on an interactive terminal; ``lines`` otherwise."""
    if quiet:
        return "off"
    stream = stream if stream is not None else sys.stderr
    interactive = bool(getattr(stream, "isatty", lambda: False)())
    if not interactive or os.environ.get("TERM") == "dumb" or os.environ.get("CI"):
        return "lines"
    return "bar"


def roughly(seconds: float) -> str:
    """An estimate for people: ``under 1 s``, ``about 40 s``, ``about 4 min``."""
    text = format_duration(seconds)
    return text if text.startswith("under") else f"about {text}"


def format_duration(seconds: float) -> str:
    """A rough duration for people: ``40 s``, ``4 min``, ``1.5 h``."""
    if seconds < 0.95:
        return "under 1 s"
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class Reporter:
    """Shows ``(message, fraction)`` progress calls; use as a callable, then :meth:`close`.

    Parameters
    ----------
    mode
        ``bar``, ``lines`` or ``off`` (see :func:`choose_mode`).
    stream
        Where to write (default stderr).
    interval_s
        In ``lines`` mode, the least time between two lines of one step.
    clock
        Monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        mode: Mode,
        stream: IO[str] | None = None,
        interval_s: float = LINE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self.clock = clock
        self._step = ""
        self._started = 0.0
        self._last_line = 0.0
        self._done = 0.0
        self._bar: Any = None

    def __call__(self, message: str, fraction: float) -> None:
        if self.mode == "off":
            return
        step, _, detail = message.partition(": ")
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = self.clock()
        if step != self._step:
            self._finish_step()
            self._step, self._started, self._last_line, self._done = step, now, now, 0.0
            if self.mode == "bar":
                self._open_bar(step)
        if self.mode == "bar":
            self._update_bar(fraction, detail)
            if fraction >= 1.0:  # done: the bar stays on screen, the step is over
                self._finish_step()
                self._step = ""
        elif fraction >= 1.0:
            if self._done < 1.0:
                self._line(f"{step}: done in {format_duration(now - self._started)}")
        elif now - self._last_line >= self.interval_s:
            elapsed = now - self._started
            left = elapsed * (1.0 - fraction) / fraction if fraction > 0 else None
            more = f", about {format_duration(left)} left" if left is not None else ""
            self._line(f"{step}: {fraction:.0%} after {format_duration(elapsed)}{more}")
            self._last_line = now
        self._done = fraction

    def say(self, text: str) -> None:
        """One informational line (e.g. a time estimate); not shown with ``-q``."""
        if self.mode == "off":
            return
        if self._bar is not None:
            self._bar.write(f"territory: {text}", file=self.stream)
        else:
            self._line(text)

    def close(self) -> None:
        """End the current step's bar (call once, when the run ends)."""
        self._finish_step()
        self._step = ""

    # ------------------------------------------------------------------ internals

    def _line(self, text: str) -> None:
        print(f"territory: {text}", file=self.stream, flush=True)

    def _open_bar(self, step: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=1000,
            desc=step,
            file=self.stream,
            leave=True,
            dynamic_ncols=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}",
        )

    def _update_bar(self, fraction: float, detail: str) -> None:
        bar = self._bar
        target = round(1000 * fraction)
        if detail:
            bar.set_postfix_str(detail, refresh=False)
        if target > bar.n:
            bar.update(target - bar.n)
        else:
            bar.refresh()

    def _finish_step(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def reporter(quiet: bool, stream: IO[str] | None = None) -> Reporter:
    """The reporter for this run: see :func:`choose_mode`."""
    return Reporter(choose_mode(quiet, stream), stream)
