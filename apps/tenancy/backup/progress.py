"""Progress of a backup or restore, one bar per table."""

from typing import IO


class Progress:
    """One bar per table: ``  auditlog_logentry        [##########] 100%  1,234 rows``.

    On a terminal the bar is redrawn as data moves; elsewhere (logs, tests) only the finished
    line is written, once per table.
    """

    def __init__(self, stream: IO[str] | None, width: int = 24):
        self.stream = stream
        self.width = width
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.label = ""
        self.total = 0
        self.done = 0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 0), 0
        self._draw(final=False)

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.tty:
            self._draw(final=False)

    def finish(self, text: str) -> None:
        self.done = self.total
        self._draw(final=True, text=text)

    def _draw(self, *, final: bool, text: str = "") -> None:
        if self.stream is None or (not final and not self.tty):
            return
        fraction = 1.0 if final or not self.total else min(self.done / self.total, 0.99)
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"  {self.label:<32} [{bar}] {fraction:4.0%}  {text}"
        self.stream.write(("\r" + line + ("\n" if final else "")) if self.tty else line + "\n")
        self.stream.flush()
