"""Great Expectations, imported once per process, quiet and offline.

Importing GX costs seconds, so it happens on the first validation, never when a module of ours is
imported (``rbpipe --help`` must answer at once). A caller that knows validation is coming can
start the import early with :func:`warm_up` (a daemon thread: ingest's work happens in worker
processes, so the parent is idle meanwhile). One ephemeral context, one pandas data source and
one batch definition serve every validation of the process.

GX imports ``scipy.stats`` and ``altair`` at its top for a distribution expectation and for
charts in Data Docs, neither of which rbpipe uses; together they are about a third of the import.
They are replaced by stand-ins that import the real module the first time anything is read from
it, so nothing changes for code that does use them (see :class:`_Deferred`).

Quiet means: no INFO lines at import, no progress bars, no data docs, analytics switched off
(this GX build has no analytics code, but the switch protects us if the package is ever swapped).

Every GX failure that would otherwise be swallowed becomes a :class:`RunError`: an expectation
that GX dropped while loading a suite, a parameter without a value, an exception inside a rule.
A rule that could not run must never look like a pass.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import threading
import time
import types
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.errors import RunError

GX_LOGGER = "great_expectations"
# This module sets its own logger to INFO when imported, so it is quietened again afterwards.
GX_SELF_LOUD_LOGGER = "great_expectations.data_context.types.base"
# Imported by GX at its top, used only by features rbpipe never calls (see the module docstring).
DEFERRED_MODULES = ("scipy.stats", "altair")


@dataclass(frozen=True, kw_only=True)
class Engine:
    """The imported GX module and the batch definition every validation goes through."""

    gx: Any
    batch_definition: Any
    import_seconds: float


# The engine lock is held for the whole import; the warm-up lock only while starting the thread,
# so that warm_up() returns at once even while an import is under way.
_engine_lock = threading.Lock()
_warm_up_lock = threading.Lock()
_engine: Engine | None = None
_warm_up_thread: threading.Thread | None = None


def engine() -> Engine:
    """Import GX quietly and prepare an ephemeral context (once per process, thread-safe).

    When :func:`warm_up` is still importing, this waits for it instead of importing twice."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _start_engine()
        return _engine


def warm_up() -> None:
    """Start importing GX in a daemon thread, so that a later :func:`engine` finds it ready.

    Returns at once and is idempotent. A failure in the thread is not reported there:
    :func:`engine` then imports again in the caller's thread and raises where it can be
    handled."""
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is not None:
            return
        _warm_up_thread = threading.Thread(target=_warm, name="rbpipe-gx-warm-up", daemon=True)
        _warm_up_thread.start()


def _warm() -> None:
    with contextlib.suppress(Exception):
        engine()


def _start_engine() -> Engine:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    logging.getLogger(GX_LOGGER).setLevel(logging.WARNING)
    start = time.perf_counter()
    for name in DEFERRED_MODULES:
        _defer(name)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger(GX_SELF_LOUD_LOGGER).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # Nothing is ever rendered; without the default site a stray build could not litter /tmp.
    context.delete_data_docs_site("local_site")
    batch_definition = (
        context.data_sources.add_pandas(name="rbpipe")
        .add_dataframe_asset(name="rencana_aksi")
        .add_batch_definition_whole_dataframe(name="bulan")
    )
    return Engine(
        gx=gx, batch_definition=batch_definition, import_seconds=time.perf_counter() - start
    )


class _Deferred(types.ModuleType):
    """Stands in for a module until something reads from it; then the real module is imported
    (and replaces the stand-in in ``sys.modules``) and every read is passed on to it.

    ``__spec__`` is the real module's, so ``import x`` and ``from pkg import x`` accept the
    stand-in without touching it; only an attribute it lacks (``x.entropy``, ``__path__``
    when a submodule is imported) triggers the real import."""

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)


def _defer(name: str) -> None:
    """Put a :class:`_Deferred` stand-in for module ``name`` in ``sys.modules``, unless the
    module is already imported or not installed (then GX's own import behaves as usual)."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


@contextlib.contextmanager
def _gx_silenced() -> Iterator[None]:
    """GX logs (with a traceback) an expectation it drops while building a suite; we report the
    drop ourselves, in Indonesian, so its own log is muted meanwhile."""
    logger = logging.getLogger(GX_LOGGER)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def build_suite(raw: dict[str, Any], *, source: str) -> Any:
    """A GX ExpectationSuite from a suite file's JSON, refusing to lose any expectation.

    GX silently drops an expectation whose ``type`` it does not know; a pydantic error (unknown
    argument) raises. Both become a RunError naming the file (``source``)."""
    gx = engine().gx
    wanted = raw.get("expectations") or []
    try:
        with _gx_silenced():
            suite = gx.ExpectationSuite(**raw)
    except Exception as exc:  # noqa: BLE001 - any malformed suite stops the run, with its name
        raise RunError(
            f"Berkas aturan {source} tidak valid ({type(exc).__name__}: {exc}). "
            "Perbaiki berkas itu atau kembalikan ke versi bawaan."
        ) from None
    if len(suite.expectations) != len(wanted):
        loaded = Counter(e.expectation_type for e in suite.expectations)
        lost = Counter(e.get("type") for e in wanted) - loaded
        raise RunError(
            f"Berkas aturan {source}: {len(wanted) - len(suite.expectations)} dari {len(wanted)} "
            f"aturan tidak dikenali Great Expectations ({', '.join(sorted(map(str, lost)))}). "
            "Periksa ejaan 'type' pada berkas itu."
        )
    return suite


def run_suite(
    suite: Any,
    frame: Any,
    *,
    index_column: str,
    parameters: dict[str, Any],
    source: str,
    runs: Counter[str],
) -> Any:
    """Validate ``frame`` against ``suite`` once, returning GX's suite result.

    Results are COMPLETE (every failing row), each failing row identified by its value in
    ``index_column`` only (read them with :func:`failing_rows`): GX's cost per failing row grows
    with the number of identifying columns and with the values it copies beside them, and the
    caller reads everything else from the frame itself. Values of ``{"$PARAMETER": name}`` come
    from ``parameters``. The call is counted in ``runs[suite.name]`` (the caller's tally of GX
    runs: one per suite and month, whatever the number of files). Any exception, raised or
    swallowed by GX inside one expectation, becomes a RunError naming ``source``."""
    batch_definition = engine().batch_definition
    result_format = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [index_column],
        "exclude_unexpected_values": True,
        "return_unexpected_index_query": False,
    }
    runs[suite.name] += 1
    try:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            suite, result_format=result_format, expectation_parameters=parameters
        )
    except Exception as exc:  # noqa: BLE001 - GX failing as a whole stops the run
        raise RunError(
            f"Pemeriksaan dengan berkas aturan {source} gagal dijalankan "
            f"({type(exc).__name__}: {exc})."
        ) from None
    for item in result.results:
        failure = _failure(item)
        if failure:
            meta = item.expectation_config.meta or {}
            raise RunError(
                f"Aturan {meta.get('code', '?')} ({item.expectation_config.type}) di {source} "
                f"tidak dapat dijalankan: {failure}. Periksa berkas aturan itu."
            )
    return result


def failing_rows(item: Any, index_column: str) -> list[int]:
    """The ``index_column`` values of the rows one expectation result found failing.

    With ``exclude_unexpected_values`` GX returns them as one record of lists
    (``[{"_idx": [3, 7]}]``), or no record when nothing failed."""
    records = (item.result or {}).get("unexpected_index_list") or []
    return [int(value) for record in records for value in record[index_column]]


def _failure(item: Any) -> str | None:
    """Why one expectation result cannot be trusted, or None when it ran.

    GX keeps an exception inside the result (flat, or nested per metric); a failed map
    expectation without its list of rows is just as useless to us."""
    info = item.exception_info or {}
    nested = info.values() if "raised_exception" not in info else [info]
    messages = [
        str(v.get("exception_message"))
        for v in nested
        if isinstance(v, dict) and v.get("raised_exception")
    ]
    if messages:
        return "; ".join(messages)
    if not item.success and "unexpected_index_list" not in (item.result or {}):
        return "hasil tanpa daftar baris"
    return None
