"""`azkz.load`: one table as typed data in pandas, polars, DuckDB or Arrow.

From a release (`release="0.1.0"` or `"latest"`) it reads the release's
`data/<table>.parquet`, whose types were fixed at build time: from `dist/<version>/` when
that was built or fetched here, else downloaded from the releases URL into the cache and
verified (`azkz.access.remote`). From the working tree (`release=None`) it validates the package
and reads the CSV through `azkz.tables.typed`, so both give the same types: dates as dates,
numbers as floats, booleans as booleans, missing as null.

pandas has no date dtype of its own (its default would be midnight `datetime64`), so
date columns come as pyarrow-backed `date32[day][pyarrow]` (`pd.ArrowDtype`), whose
values are `datetime.date`; every other column keeps pandas' usual dtype.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azkz.access.remote import locate
from azkz.core.layout import DESCRIPTOR, table_file
from azkz.core.sql import quote_ident
from azkz.derive.annual_series import derive_tables
from azkz.schema.package import read_package
from azkz.tables.typed import load_tables, raw_csv_sql, typed_select_sql
from azkz.validate.contracts import check_frame
from azkz.validate.package import validate_or_raise

ENGINES = ("pandas", "polars", "duckdb", "arrow")


def load(
    table: str,
    release: str | None = None,
    engine: str = "pandas",
    root: str | Path = ".",
    dist: str | Path = "dist",
    base_url: str | None = None,
) -> Any:
    """Return `table` as a pandas/polars DataFrame, a DuckDB relation or an Arrow table.

    `root` is the package directory (for `release=None`). `dist` holds local releases:
    `dist` relative to the current directory by default, as for the CLI's `--dist`.
    `base_url` (default `$AZKZ_RELEASES_URL`, else where the project publishes) serves
    the others. Raises `ValueError` for an unknown engine or table, or data that breaks
    the pandera contract generated from the schema; `azkz.core.layout.ReleaseError` for a
    release that cannot be found, downloaded or verified; and
    `azkz.release.build.InvalidPackage` when the working tree does not validate.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if release is None:
        relation, schema_table = _working_tree_relation(Path(root), table)
    else:
        relation, schema_table = _release_relation(release, table, dist, base_url)
    _honour_contract(schema_table, relation)
    if engine == "duckdb":
        return relation
    if engine == "arrow":
        return relation.to_arrow_table()
    if engine == "polars":
        return relation.pl()
    return pandas_with_dates(relation.to_arrow_table())


def pandas_with_dates(table):
    """`table` as a pandas DataFrame whose date columns stay dates (ArrowDtype date32)."""
    import pandas as pd
    import pyarrow as pa

    return table.to_pandas(
        types_mapper=lambda arrow_type: (
            pd.ArrowDtype(arrow_type) if pa.types.is_date(arrow_type) else None
        )
    )


def _working_tree_relation(root: Path, name: str):
    import duckdb

    package = validate_or_raise(root)
    try:
        table = package.table(name)
    except KeyError:
        raise ValueError(_unknown_table(name, [t.name for t in package.tables])) from None
    con = duckdb.connect()
    if table.virtual:  # derived (annual_series): computed from the tables it comes from
        load_tables(package, con, valid=True)
        derive_tables(package, con)
        return con.table(quote_ident(name)), table
    raw = raw_csv_sql(package.file(table), table)
    return con.sql(typed_select_sql(table, raw, valid=True)), table


def _release_relation(release: str, name: str, dist: str | Path, base_url: str | None):
    import duckdb

    parquet = table_file(name, "parquet")

    def wanted(files: dict) -> list[str]:
        if parquet not in files:
            tables = sorted(Path(n).stem for n in files if n.endswith(".parquet"))
            raise ValueError(_unknown_table(name, tables) + f" in release {release}")
        return [DESCRIPTOR, parquet]

    version_dir = locate(release, wanted, dist, base_url)
    wanted({p.relative_to(version_dir).as_posix(): None for p in version_dir.rglob("*")})
    schema_table = read_package(version_dir).table(name)
    return duckdb.connect().read_parquet(str(version_dir / parquet)), schema_table


def _honour_contract(table, relation) -> None:
    """Check the typed frame against the pandera contract generated from the table's schema.

    What `load` hands out is what the schema promises (types, required, enums, keys),
    whether it came from the working tree or from a release file someone may have edited.
    """

    errors = check_frame(table, relation.pl())
    if errors:
        shown = "; ".join(f"{e['field'] or '-'}: {e['message']}" for e in errors[:5])
        raise ValueError(
            f"{table.name} breaks its schema's contract ({len(errors)} problem(s)): {shown}"
        )


def _unknown_table(name: str, known: list[str]) -> str:
    return f"no table {name!r}; tables: {', '.join(known)}"
