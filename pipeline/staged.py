"""The two frames every stage passes on, declared once: columns, order and dtypes.

**Staged rows** (:data:`STAGED`, docs/contracts.md "The staged-rows DataFrame"): one row per
action plan of every accepted file, born in ingest (:func:`conform` is applied where the frame is
built) and read by validate, metrics, history and the publishers, which check it
(:func:`check`) instead of coercing it again.

    _unit _file _sheet _kind   str or None     provenance
    _row                       int64           1-based Excel row in the unit's file
    _col_<field>               str or None     Excel column letter of <field> (every field)
    <field>                    str or None     text fields: stripped, blank -> None
                               float64         number fields: NaN when empty or unreadable
    _raw_<field>               str or None     the text of an unreadable number (number fields)

Text columns are ``object`` holding Python ``str`` or ``None`` (what Great Expectations' row
conditions and the writers expect); a fresh ``RangeIndex``.

**Annotated plans** (:data:`PLANS`, ``Metrics.plans``): the staged rows (text choices normalised
by validate) plus what metrics adds: ``realisasi_terakhir``, ``capaian_pct``,
``capaian_tahunan_pct`` (float64, NaN where undefined or excluded), ``status`` (one of
``metrics.STATUSES`` or None when excluded), ``_errors``, ``_warnings`` (int64) and the exclusion
flags ``_excl_capaian``, ``_excl_status``, ``_excl_bukti``, ``_excl_anggaran`` (bool).

pandas is imported inside the functions: ingest's worker processes import this module (for the
column order) and start without pandas.

Example::

    frame = staged.conform(pd.DataFrame.from_records(records))  # at the boundary, once
    staged.check(frame)  # later stages: raises StagedFrameError when the contract is broken
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline import schema
from pipeline.plain import display_value

if TYPE_CHECKING:
    import pandas as pd

TEXT = "object"  # Python str or None
META_DTYPES: dict[str, str] = {
    "_unit": TEXT,
    "_file": TEXT,
    "_sheet": TEXT,
    "_kind": TEXT,
    "_row": "int64",
}
FIELDS: tuple[str, ...] = tuple(f.name for f in schema.FIELDS)
RAW_FIELDS: tuple[str, ...] = schema.NUMBER_FIELDS
COLUMN_COLUMNS: tuple[str, ...] = tuple(f"_col_{name}" for name in FIELDS)
RAW_COLUMNS: tuple[str, ...] = tuple(f"_raw_{name}" for name in RAW_FIELDS)

# Metrics' exclusion flags, by the metric the catalogue names (Rule.metrics).
EXCLUSION_FLAGS: dict[str, str] = {
    "capaian": "_excl_capaian",
    "status": "_excl_status",
    "bukti": "_excl_bukti",
    "anggaran": "_excl_anggaran",
}


class StagedFrameError(TypeError):
    """A frame passed between stages breaks its declared contract: a bug, not bad data."""


@dataclass(frozen=True)
class FrameSpec:
    """A frame's columns in order, each with its dtype."""

    name: str
    dtypes: Mapping[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.dtypes)

    def empty(self) -> pd.DataFrame:
        """A frame with no rows and every column of the right dtype."""
        import pandas as pd

        return pd.DataFrame(
            {c: pd.Series([], dtype=dtype) for c, dtype in self.dtypes.items()},
            index=pd.RangeIndex(0),
        )

    def check(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` itself when it has every declared column with its dtype (other columns
        may follow); else :class:`StagedFrameError` naming what is wrong."""
        import numpy as np
        import pandas as pd

        missing = [c for c in self.dtypes if c not in frame.columns]
        wrong = [
            f"{c} ({frame[c].dtype}, expected {dtype})"
            for c, dtype in self.dtypes.items()
            if c in frame.columns and frame[c].dtype != np.dtype(dtype)
        ]
        if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0):
            wrong.append("index (expected a fresh RangeIndex)")
        if missing or wrong:
            raise StagedFrameError(
                f"{self.name}: "
                + "; ".join(
                    filter(
                        None,
                        [
                            f"missing columns {', '.join(missing)}" if missing else "",
                            f"wrong dtypes {', '.join(wrong)}" if wrong else "",
                        ],
                    )
                )
            )
        return frame


STAGED = FrameSpec(
    "staged rows",
    {
        **META_DTYPES,
        **dict.fromkeys(COLUMN_COLUMNS, TEXT),
        **{name: ("float64" if name in schema.NUMBER_FIELDS else TEXT) for name in FIELDS},
        **dict.fromkeys(RAW_COLUMNS, TEXT),
    },
)
PLANS = FrameSpec(
    "annotated plans",
    {
        **STAGED.dtypes,
        "realisasi_terakhir": "float64",
        "capaian_pct": "float64",
        "capaian_tahunan_pct": "float64",
        "status": TEXT,
        "_errors": "int64",
        "_warnings": "int64",
        **dict.fromkeys(EXCLUSION_FLAGS.values(), "bool"),
    },
)
COLUMNS = STAGED.columns


def empty() -> pd.DataFrame:
    """Staged rows of a month without a single accepted action plan."""
    return STAGED.empty()


def check(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` when it holds the staged-row columns with their dtypes (else
    :class:`StagedFrameError`)."""
    return STAGED.check(frame)


def conform(rows: pd.DataFrame | None) -> pd.DataFrame:
    """Staged rows as the contract declares them, from whatever a builder assembled: every
    column present (missing ones null), declared columns first in their order (others after, in
    theirs), a fresh RangeIndex, text stripped (blank -> None), numbers as float.

    A number field holding something that is not a number keeps that text in ``_raw_<field>``
    so it is reported (RB-E103) rather than silently lost."""
    import pandas as pd

    given = (rows if rows is not None else pd.DataFrame()).reset_index(drop=True)
    n = len(given)
    out: dict[str, pd.Series] = {}

    def column(name: str) -> pd.Series:
        return given[name] if name in given else pd.Series([None] * n, dtype=object)

    for name in ("_unit", "_file", "_sheet", "_kind"):
        out[name] = text(column(name))
    out["_row"] = pd.to_numeric(column("_row"), errors="coerce").fillna(0).astype("int64")
    for name in COLUMN_COLUMNS:
        out[name] = text(column(name))
    for name in FIELDS:
        if name in schema.NUMBER_FIELDS:
            value = column(name)
            number = pd.to_numeric(value, errors="coerce").astype("float64")
            raw = text(column(f"_raw_{name}"))
            unreadable = value.notna() & number.isna() & raw.isna()
            if unreadable.any():
                raw = raw.where(~unreadable, text(value.where(unreadable)))
            out[f"_raw_{name}"] = raw
            out[name] = number
        else:
            out[name] = text(column(name))
    extra = [c for c in given.columns if c not in STAGED.dtypes]
    return pd.DataFrame(
        {**{c: out[c] for c in STAGED.columns}, **{c: given[c] for c in extra}},
        index=pd.RangeIndex(n),
    )


def text(series: pd.Series) -> pd.Series:
    """Stripped text, None for missing or blank cells (object dtype). A float is written
    without noise (``12`` not ``12.0``).

    Each distinct value is cleaned once: provenance and column letters repeat on every row."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    # Code -1 (a missing value) picks the None appended last.
    cleaned = np.array([*map(_one_text, uniques), None], dtype=object)
    return pd.Series(cleaned[codes], index=series.index, dtype=object)


def _one_text(value: object) -> str | None:
    shown = display_value(value) if isinstance(value, float) else str(value)
    return (shown or "").strip() or None
