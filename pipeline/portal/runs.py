"""Month runs started from the portal (``POST /api/rekap``).

A run is the real ``rbpipe run`` in a child process (:mod:`pipeline.portal.runner`): a crash or
a memory spike of the run cannot take the server down, the run takes the same output lock as
the CLI (it waits for a CLI run that holds it), and it judges exactly the files in
``inputs/<YYYY-MM>/``. Its progress comes from its stage log lines on standard error
(``tahap ingest dimulai`` ...); its summary (the CLI's) from standard output. Tasks are rows of
``rekap`` in ``portal.sqlite``; a task left ``berjalan`` by a killed server is marked failed at
the next start.

Rule for uploads arriving during a run: the run reads the month folder when its ingest stage
starts, after ``POST /api/rekap`` arrived. An upload is in the month folder before its 201 is
sent, so every upload acknowledged before the analyst asked for the run is in that run; one
acknowledged while the run starts is in it or, at the latest, in the next run of the month.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from pipeline.portal.db import Database, now

log = logging.getLogger("rbpipe.portal")
STAGES = ("ingest", "validate", "metrics", "publish", "history")


class Runs:
    def __init__(self, db: Database, data_root: Path):
        self.db = db
        self.data_root = Path(data_root)
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}
        self._procs: dict[int, subprocess.Popen] = {}
        self._fail_stale()

    def _fail_stale(self, task: int | None = None) -> None:
        """Mark tasks left waiting or running by an earlier server (or ``task``) failed; best
        effort: on a full disk the server must start all the same (:meth:`start` does not
        trust such a row either)."""
        where = "status IN ('menunggu', 'berjalan')" + (" AND id = ?" if task else "")
        try:
            self.db.execute(
                f"UPDATE rekap SET status = 'gagal', selesai = ?, ringkasan = ? WHERE {where}",
                (now(), json.dumps({"pesan": "Server berhenti sebelum rekap selesai."}))
                + ((task,) if task else ()),
            )
        except sqlite3.Error as exc:
            log.warning("tugas rekap lama tidak dapat ditandai gagal: %s", exc)

    def start(self, periode: str, by: str) -> int:
        """A task id: the month's task already waiting or running, else a new one."""
        with self._lock:
            row = self.db.one(
                "SELECT id FROM rekap WHERE periode = ? AND status IN ('menunggu', 'berjalan')",
                (periode,),
            )
            if row is not None:
                thread = self._threads.get(row["id"])
                if thread is not None and thread.is_alive():
                    return row["id"]
                self._fail_stale(row["id"])  # an earlier server's, never marked
            cur = self.db.execute(
                "INSERT INTO rekap (periode, status, dibuat, oleh) VALUES (?, 'menunggu', ?, ?)",
                (periode, now(), by),
            )
            task = int(cur.lastrowid or 0)
            thread = threading.Thread(
                target=self._run, args=(task, periode), name=f"rbpipe-rekap-{task}", daemon=True
            )
            self._threads[task] = thread
            thread.start()
            return task

    def get(self, task: int) -> dict | None:
        row = self.db.one("SELECT * FROM rekap WHERE id = ?", (task,))
        if row is None:
            return None
        done = STAGES.index(row["tahap"]) if row["tahap"] in STAGES else 0
        return {
            "tugas": row["id"],
            "periode": row["periode"],
            "status": row["status"],
            "tahap": row["tahap"],
            "kemajuan": 1.0 if row["status"] == "selesai" else round(done / len(STAGES), 2),
            "dibuat": row["dibuat"],
            "selesai": row["selesai"],
            "ringkasan": json.loads(row["ringkasan"]) if row["ringkasan"] else None,
        }

    def wait(self, task: int, timeout: float | None = None) -> None:
        thread = self._threads.get(task)
        if thread is not None:
            thread.join(timeout)

    def stop(self, grace: float = 10.0) -> None:
        """End the runs still going (server shutdown): SIGTERM, then SIGKILL after ``grace``
        seconds. A run stopped midway leaves the previous outputs intact (atomic writes);
        its task is marked failed at the next start."""
        for proc in list(self._procs.values()):
            if proc.poll() is None:
                proc.terminate()
        for proc in list(self._procs.values()):
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _run(self, task: int, periode: str) -> None:
        self.db.execute("UPDATE rekap SET status = 'berjalan' WHERE id = ?", (task,))
        command = [
            sys.executable,
            "-m",
            "pipeline.portal.runner",
            str(self.data_root),
            periode,
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
            self._procs[task] = proc
            assert proc.stdout is not None and proc.stderr is not None
            stdout = proc.stdout
            out_lines: list[str] = []
            reader = threading.Thread(target=lambda: out_lines.extend(stdout), daemon=True)
            reader.start()
            errors: list[str] = []
            for line in proc.stderr:
                line = line.rstrip("\n")
                stage = _stage_started(line)
                if stage:
                    self.db.execute("UPDATE rekap SET tahap = ? WHERE id = ?", (stage, task))
                elif line.strip() and not line.startswith("tahap "):  # not "tahap X selesai"
                    errors.append(line)
            code = proc.wait()
            reader.join()
            self._procs.pop(task, None)
        except OSError as exc:
            code, out_lines, errors = -1, [], [f"Rekap tidak dapat dimulai: {exc}"]
        ok = code == 0
        summary = {
            "kode_keluar": code,
            "baris": [line.rstrip("\n") for line in out_lines if line.strip()],
            "pesan": None if ok else ("\n".join(errors[-5:]) or f"Rekap gagal (kode {code})."),
        }
        self.db.execute(
            "UPDATE rekap SET status = ?, selesai = ?, ringkasan = ?, tahap = ? WHERE id = ?",
            (
                "selesai" if ok else "gagal",
                now(),
                json.dumps(summary, ensure_ascii=False),
                "history" if ok else None,
                task,
            ),
        )
        self.db.audit("rekap.selesai" if ok else "rekap.gagal", f"rekap {periode} (tugas {task})")


def _stage_started(line: str) -> str | None:
    parts = line.split()
    if len(parts) >= 3 and parts[0] == "tahap" and parts[2] == "dimulai" and parts[1] in STAGES:
        return parts[1]
    return None
