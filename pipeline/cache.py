"""Incremental months: what a run learnt about each input file, kept for the next run.

Analysts run a month many times (a late file, a correction). A re-run should pay only for what
changed, and give exactly the bytes a run from scratch gives. The run cache, under
``<outputs>/.cache/`` (:class:`RunCache`), keeps five things, each under a key that holds
*everything* its value depends on:

* ``baca/``: what ingest's worker made of a file (:class:`pipeline.ingest.FileParse`), keyed by
  the file's SHA-256, the reader limits and the code version. Files that could not be read are
  not kept (reading them again is cheap, and a timeout may depend on the machine's load).
* ``periksa/``: the problems validation found in a unit's report (its accepted files
  together), keyed by the unit, each accepted file's name, SHA-256 and the sheets of it that
  count, the period, the reference lists and settings, the rule suites (in the code version),
  the unit's rows of the previous month used for RB-W102 (their hash), and the code version.
  Every rule reads one unit's rows (RB-E114 counts codes over the unit's report, which may be
  split by sheet kind over two files; RB-W102 compares with the unit's own last month), so a
  unit's problems do not depend on other units.
* ``rekap/``: each unit's rendered rows of the regency workbook's consolidated sheets (per
  kind), keyed by the unit's plan rows, name and problems and the code version
  (:class:`pipeline.incremental.PlanBlocks`).
* ``riwayat/``: each unit's plan rows as the history stores them
  (:func:`pipeline.incremental.history_rows`), keyed by the unit's plan rows and the code.
* ``<YYYY-MM>/umpan_balik.json``: per feedback workbook, the hash of everything its renderer
  sees (the unit's view: its files, rows, problems, metrics, rank, the regency medians, the
  settings) and the SHA-256 of the file written. A workbook whose view is unchanged and whose
  file is still the one written is not rendered again. The regency medians and ranks are in the
  view: when another unit's correction moves them, the feedback shows new figures and is
  rendered again.

The **code version** (:func:`code_version`) is the SHA-256 of the package's source files, the
rule files in ``expectations/`` and the versions of the libraries that shape a value (pandas,
numpy, python-calamine, openpyxl, xlrd, odfpy, GX, xlsxwriter): any change to any of them makes
every entry a miss.

**Never a wrong result.** An entry is one file: a header line (format, kind, key, SHA-256 of
the value text) and the value as JSON. A file that is missing, torn, edited, of another format
or key, or that does not decode is a miss, and the run does that file's work cold. Values are
JSON, decoded into a fixed list of our own dataclasses (:data:`CLASSES`), never pickled: a
file planted in the outputs folder cannot run code. Entries are written without fsync (a lost
entry is only a miss) by rename, so a reader never sees half an entry.

**Size.** After a run, :meth:`RunCache.finish` records the entries that month used
(``<YYYY-MM>/entri.json``) and deletes every entry that no month's record names: the cache holds
the latest run of each month. The folder can be deleted at any time; the next run is then cold.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("rbpipe")

CACHE_FOLDER = ".cache"
FORMAT = 1
KIND_PARSED = "baca"
KIND_PROBLEMS = "periksa"
KIND_PLAN_ROWS = "rekap"
KIND_HISTORY_ROWS = "riwayat"
ENTRY_KINDS = (KIND_PARSED, KIND_PROBLEMS, KIND_PLAN_ROWS, KIND_HISTORY_ROWS)
FEEDBACK_INDEX = "umpan_balik.json"
ENTRIES_INDEX = "entri.json"
# Libraries whose version can change a value the cache keeps or a byte of an output.
VERSIONED = (
    "pandas",
    "numpy",
    "python-calamine",
    "openpyxl",
    "xlrd",
    "odfpy",
    "great_expectations",
    "xlsxwriter",
    "defusedxml",
)
PACKAGE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 of every source file of the package, every rule file and the versions of
    :data:`VERSIONED` (see the module docstring)."""
    from importlib.metadata import PackageNotFoundError, version

    from pipeline.problems import EXPECTATIONS_DIR

    digest = hashlib.sha256()
    files = sorted(PACKAGE.rglob("*.py")) + sorted(Path(EXPECTATIONS_DIR).glob("*.json"))
    for path in files:
        digest.update(path.relative_to(path.parents[1]).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for name in VERSIONED:
        try:
            digest.update(f"{name}={version(name)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=-\0".encode())
    return digest.hexdigest()


def key_of(*parts: object) -> str:
    """The SHA-256 of ``parts`` (plain values and our dataclasses), in a canonical encoding."""
    text = json.dumps(encode(list(parts)), ensure_ascii=False, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Values as JSON (no pickle)
# --------------------------------------------------------------------------------------------


class Unencodable(TypeError):
    """A value the cache cannot keep (it is then simply not kept)."""


@functools.lru_cache(maxsize=1)
def _classes() -> dict[str, type]:
    from pipeline import model
    from pipeline.ingest import FileParse
    from pipeline.ingest.identify import Clues
    from pipeline.ingest.rows import SheetRows
    from pipeline.problems import Problem

    found = [FileParse, SheetRows, Clues, Problem]
    found += [
        cls
        for cls in vars(model).values()
        if isinstance(cls, type)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == model.__name__
    ]
    return {cls.__name__: cls for cls in found}


def _plain_scalar(value: object) -> bool:
    kind = type(value)
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    return kind is str or kind is int or kind is bool or value is None


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data: tuples (``T`` when all their items are plain), dicts with any keys, dates and times, non-finite
    floats and the dataclasses of :func:`_classes` are tagged so that :func:`decode` gives them
    back exactly; anything else raises :class:`Unencodable`."""
    if _plain_scalar(value):
        return value
    kind = type(value)
    if kind is float:
        return {"f": repr(value)}
    if kind is list:
        return [v if type(v) is str else encode(v) for v in value]
    if kind is tuple:
        # Rows are long tuples of plain values: the common case skips the per-item walk, here
        # and in decode (its own tag).
        if all(map(_plain_scalar, value)):
            return {"T": list(value)}
        return {"t": [encode(v) for v in value]}
    if kind is dict:
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is dt.datetime:
        return {"dt": value.isoformat()}
    if kind is dt.date:
        return {"date": value.isoformat()}
    if dataclasses.is_dataclass(value) and _classes().get(kind.__name__) is kind:
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"c": kind.__name__, "v": fields}
    raise Unencodable(f"{kind.__module__}.{kind.__qualname__}")


def decode(data: Any) -> Any:
    """The value :func:`encode` made ``data`` from (raises on anything else)."""
    if type(data) is list:
        return [v if type(v) is str else decode(v) for v in data]
    if type(data) is not dict:
        return data
    (tag, inner), *rest = data.items()
    if tag == "T" and not rest and type(inner) is list:
        return tuple(inner)
    if tag == "t" and not rest:
        return tuple(decode(v) for v in inner)
    if tag == "d" and not rest:
        return {decode(k): decode(v) for k, v in inner}
    if tag == "f" and not rest:
        return float(inner)
    if tag == "dt" and not rest:
        return dt.datetime.fromisoformat(inner)
    if tag == "date" and not rest:
        return dt.date.fromisoformat(inner)
    if tag == "c" and set(data) == {"c", "v"}:
        cls = _classes()[inner]
        return cls(**{name: decode(v) for name, v in data["v"].items()})
    raise ValueError(f"bentuk data cache tidak dikenal: {tag}")


# --------------------------------------------------------------------------------------------
# The cache of one run
# --------------------------------------------------------------------------------------------


class RunCache:
    """The run cache of one month under ``<outputs>/.cache/`` (see the module docstring).

    Lookups return None on any doubt; :attr:`stats` counts hits, misses and entries that were
    there but could not be used (``rusak``)."""

    def __init__(self, outputs: Path, period: object, *, read: bool = True) -> None:
        self.root = Path(outputs) / CACHE_FOLDER
        self.period = str(period)
        self.read = read  # False: every lookup misses (a cold run that refreshes the cache)
        self.stats: Counter[str] = Counter()
        self._used: set[str] = set()
        index = self.root / self.period / FEEDBACK_INDEX
        before = self._read_json(index) if read else None
        self._feedback_before: dict = before if isinstance(before, dict) else {}
        self._feedback_now: dict[str, dict[str, str]] = {}

    # -- entries ------------------------------------------------------------------------------

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        """The value kept under ``key``, or None (a miss)."""
        if not self.read:
            return None
        path = self._path(kind, key)
        try:
            blob = path.read_bytes()
        except OSError:
            self.stats[f"{kind}_tidak_ada"] += 1
            return None
        try:
            head, _, body = blob.partition(b"\n")
            meta = json.loads(head)
            if meta != {
                "format": FORMAT,
                "kind": kind,
                "key": key,
                "sha256": hashlib.sha256(body).hexdigest(),
            }:
                raise ValueError("kepala entri tidak cocok")
            value = decode(json.loads(body))
        except Exception as exc:  # noqa: BLE001 - any doubt is a miss, never a wrong result
            log.warning("cache: entri %s/%s tidak dipakai (%s)", kind, path.name, exc)
            self.stats[f"{kind}_rusak"] += 1
            return None
        self.stats[f"{kind}_dipakai"] += 1
        self._used.add(f"{kind}/{key}")
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``; a value that cannot be kept is skipped (logged)."""
        try:
            body = json.dumps(encode(value), ensure_ascii=False, allow_nan=True).encode("utf-8")
        except Unencodable as exc:
            log.warning("cache: %s tidak disimpan (%s)", kind, exc)
            return
        meta = {
            "format": FORMAT,
            "kind": kind,
            "key": key,
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        head = json.dumps(meta).encode("ascii")
        try:
            _write_quick(self._path(kind, key), head + b"\n" + body)
        except OSError as exc:
            log.warning("cache: %s tidak dapat ditulis (%s)", kind, exc)
            return
        self.stats[f"{kind}_disimpan"] += 1
        self._used.add(f"{kind}/{key}")

    # -- feedback workbooks ------------------------------------------------------------------

    def feedback_current(self, path: Path, view_digest: str) -> bool:
        """True when ``path`` is the workbook a run rendered from a view with this digest and
        has not changed since (its SHA-256 is the one recorded)."""
        from pipeline.fsutil import sha256_file

        seen = self._feedback_before.get(path.name)
        if not isinstance(seen, dict) or seen.get("view") != view_digest:
            return False
        try:
            current = sha256_file(path)
        except OSError:
            return False
        if current != seen.get("sha256"):
            return False
        self._feedback_now[path.name] = seen
        self.stats["umpan_balik_tetap"] += 1
        return True

    def feedback_written(self, path: Path, view_digest: str) -> None:
        from pipeline.fsutil import sha256_file

        self._feedback_now[path.name] = {"view": view_digest, "sha256": sha256_file(path)}
        self.stats["umpan_balik_ditulis"] += 1

    # -- end of the run ------------------------------------------------------------------------

    def finish(self) -> None:
        """Record what this month used and wrote, and delete entries no month names."""
        month = self.root / self.period
        try:
            _write_quick(
                month / FEEDBACK_INDEX,
                json.dumps(self._feedback_now, indent=0, sort_keys=True).encode("utf-8"),
            )
            _write_quick(
                month / ENTRIES_INDEX, json.dumps(sorted(self._used), indent=0).encode("utf-8")
            )
            self._prune()
        except OSError as exc:
            log.warning("cache: catatan bulan %s tidak dapat ditulis (%s)", self.period, exc)

    def _prune(self) -> None:
        named: set[str] = set()
        for index in self.root.glob(f"*/{ENTRIES_INDEX}"):
            named.update(self._read_json(index) or [])
        for kind in ENTRY_KINDS:
            folder = self.root / kind
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if f"{kind}/{path.stem}" not in named:
                    with contextlib.suppress(OSError):
                        path.unlink()

    @staticmethod
    def _read_json(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def _write_quick(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` by rename (never half a file), without fsync: a cache entry
    lost to a power cut is only a miss."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def hashed(values: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for value in values:
        digest.update(value)
    return digest.hexdigest()
