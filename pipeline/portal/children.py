"""Processes the server starts end with it, even when it is killed outright (SIGKILL, the
kernel's OOM killer), so that a crashed server leaves nothing running behind it.

A child of a killed process is not told: it is handed to init and goes on. Measured before this
module: the two warm GX worker processes (~140 MB each) outlived every SIGKILL of the server, a
month run would have gone on writing outputs (and holding the output lock) for a task the next
start marks failed. Each such child calls :func:`exit_with_parent` first thing: a daemon thread
notices within ``interval`` seconds that its parent changed and ends the process at once
(``os._exit``: the run's outputs are written atomically, so an interrupted run leaves the
previous ones whole; its temporaries are removed by the next run or the next server start).
"""

from __future__ import annotations

import os
import threading
import time

EXIT_PARENT_GONE = 70


def exit_with_parent(interval: float = 0.5) -> None:
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=watch, name="rbpipe-induk", daemon=True).start()
