"""Plain values: what is missing, the plain Python scalar of a pandas/numpy value, and how a
value is shown to people and stored for machines. One home for every stage and publisher.

* :func:`is_missing`: None, NaN, NaT and ``pandas.NA`` (a cell left empty).
* :func:`to_plain`: numpy and pandas scalars unwrapped to Python ones, infinities dropped,
  None when missing. :func:`flag`, :func:`as_int`, :func:`as_float` on top of it.
* :func:`display_value`: the text of an offending value in a problem message (``12`` not
  ``12.0``, long text cut). :func:`shown`: a value as a report cell shows it (missing as a dash,
  collections joined).
* :func:`json_scalar` / :func:`json_tree`: values for JSON and SQLite (times as ISO text).

numpy and pandas are imported only on the slow paths: the ingest workers import this module
(through :mod:`pipeline.problems`) and start without pandas.

Example::

    to_plain(np.float64("nan"))   # None
    to_plain(np.int64(3))         # 3
    display_value(12.0)           # "12"
    json_tree({"t": dt.datetime(2025, 11, 4, 14, 30)})  # {"t": "2025-11-04T14:30:00"}
"""

from __future__ import annotations

import datetime as dt
import math
from typing import overload

JsonScalar = str | int | float | bool | None

MISSING_SHOWN = "–"  # how a report shows a value that is missing
DISPLAY_LIMIT = 200  # characters of an offending value quoted in a problem


def is_missing(value: object) -> bool:
    """True for None, NaN, NaT and pandas.NA: the cell stays empty."""
    if value is None:
        return True
    kind = type(value)
    if kind is float:  # the common cases first: this runs for every cell written
        return value != value
    if kind is str or kind is int or kind is bool or isinstance(value, str | bytes):
        return False
    import numpy as np
    import pandas as pd

    missing = pd.isna(value)
    return bool(missing) if isinstance(missing, bool | np.bool_) else False


def to_plain(value: object) -> object:
    """A plain Python scalar for ``value`` (numpy and pandas scalars unwrapped, infinities
    dropped), None when missing. Other objects (text, datetimes, lists) are returned as they
    are."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:  # the common cases, for every cell written
        return value
    if kind is float:
        return None if value != value or math.isinf(value) else value  # type: ignore[arg-type]
    if is_missing(value):
        return None
    import numpy as np
    import pandas as pd

    if isinstance(value, np.datetime64 | pd.Timestamp):
        value = pd.Timestamp(value).to_pydatetime()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return None
    return value


def flag(value: object) -> bool | None:
    """A yes/no value from a bool column that may hold None/NaN for "not applicable"."""
    value = to_plain(value)
    return None if value is None else bool(value)


def as_int(value: object) -> int | None:
    """An integer, None when missing."""
    value = to_plain(value)
    return None if value is None else int(value)  # type: ignore[call-overload]


@overload
def as_float(value: object, default: float) -> float: ...
@overload
def as_float(value: object, default: None = None) -> float | None: ...
def as_float(value: object, default: float | None = None) -> float | None:
    """A float (booleans as 0/1), ``default`` when missing."""
    value = to_plain(value)
    return default if value is None else float(value)  # type: ignore[arg-type]


def display_value(value: object) -> str | None:
    """The text shown for an offending value: None for empty, no float noise (``12`` not
    ``12.0``), long text cut at :data:`DISPLAY_LIMIT` characters."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    text = str(value)
    return text if len(text) <= DISPLAY_LIMIT else text[: DISPLAY_LIMIT - 1] + "…"


def shown(value: object) -> object:
    """A value as a report cell shows it: collections joined (sorted), missing as a dash, text
    and numbers as they are, anything else as its text."""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(sorted(str(v) for v in value)) or MISSING_SHOWN
    value = to_plain(value)
    if value is None:
        return MISSING_SHOWN
    return value if isinstance(value, str | int | float) else str(value)


def json_scalar(value: object, *, timespec: str = "seconds") -> JsonScalar:
    """A JSON (and SQLite) scalar: missing -> None, numpy scalars unwrapped, datetimes and
    dates as ISO text (``timespec`` as :meth:`datetime.isoformat`), anything else that is not
    a JSON scalar as its text."""
    value = to_plain(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec=timespec)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def json_tree(value: object, *, timespec: str = "seconds") -> object:
    """``value`` as JSON data: dicts (keys as text) and lists kept, tuples as lists, sets as
    sorted lists, every leaf through :func:`json_scalar`."""
    if isinstance(value, dict):
        return {str(k): json_tree(v, timespec=timespec) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_tree(v, timespec=timespec) for v in value]
    if isinstance(value, set | frozenset):
        return [json_tree(v, timespec=timespec) for v in sorted(value, key=str)]
    return json_scalar(value, timespec=timespec)
