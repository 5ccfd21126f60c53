"""Where the portal keeps things inside its data folder (the one place that knows).

``<data>/inputs/<YYYY-MM>/`` receives accepted uploads (what ``rbpipe run`` reads),
``<data>/outputs/`` is the CLI's outputs folder, ``<data>/portal.sqlite`` holds accounts,
sessions, uploads, tasks and the audit log. The portal's own files live under
``<data>/portal/`` (staging of uploads in progress, instant feedback workbooks) and
``<data>/karantina/`` (workbooks a unit uploaded that identify as another unit). None of these
folders is served as static files: every download goes through a route that checks access.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.outputs import FEEDBACK_FOLDER, HISTORY_FILE, OutputLayout, feedback_name
from pipeline.registry import Period

DB_FILE = "portal.sqlite"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def db(self) -> Path:
        return self.root / DB_FILE

    @property
    def staging(self) -> Path:
        return self.root / "portal" / "unggah"

    @property
    def instant_feedback(self) -> Path:
        return self.root / "portal" / "umpan_balik"

    @property
    def quarantine(self) -> Path:
        return self.root / "karantina"

    @property
    def history(self) -> Path:
        return self.outputs / HISTORY_FILE

    def layout(self, period: Period | str) -> OutputLayout:
        """The CLI's names and paths of a month's outputs (and its inputs) in this folder."""
        period = period if isinstance(period, Period) else Period.parse(period)
        return OutputLayout(outputs=self.outputs, period=period, inputs=self.inputs)

    def month_inputs(self, period: Period | str) -> Path:
        return self.layout(period).month_inputs

    def month_outputs(self, period: Period | str) -> Path:
        return self.layout(period).month

    def manifest(self, period: Period | str) -> Path:
        return self.layout(period).manifest

    def official_feedback_name(self, kode: str, period: Period | str) -> str:
        """Relative name (under the month's outputs) of a unit's feedback from the month run."""
        return f"{FEEDBACK_FOLDER}/{feedback_name(kode, period)}"

    def open_output(self, period: Period | str, name: str) -> int | None:
        """A read-only file descriptor of the month's output ``name`` (relative, ``/``-separated),
        or None. Opened component by component from the outputs folder without following any
        symbolic link (the month folder included), and only a regular file with one link: a
        symlink or hard link planted in ``outputs/`` never serves a file from elsewhere, and a
        file swapped after a check is not opened (no time-of-check race)."""
        parts = name.split("/")
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            return None
        nofollow = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            folder = os.open(self.outputs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            for part in [str(period), *parts[:-1]]:
                inner = os.open(part, nofollow | os.O_DIRECTORY, dir_fd=folder)
                os.close(folder)
                folder = inner
            fd = os.open(parts[-1], nofollow | os.O_NONBLOCK, dir_fd=folder)
        except OSError:
            return None
        finally:
            os.close(folder)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            return None
        return fd

    def prepare(self) -> None:
        for folder in (self.inputs, self.outputs, self.staging, self.instant_feedback):
            folder.mkdir(parents=True, exist_ok=True)
