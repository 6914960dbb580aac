"""What changed between two versions of the package, and the SemVer bump it needs.

Either side of a diff is a release directory (`dist/<version>/`), a `datapackage.json`
(or the directory holding one), the working tree (`WORKTREE`), or a git ref of the
repository (`v0.1.0`, `origin/main`, `HEAD`).  A git ref is read with `git archive`
into a temporary directory, so the working tree is never touched; `HEAD` is the last
commit, `WORKTREE` (or `.`) the files as they are on disk.  A path that exists wins
over a ref of the same name.  For refs and `WORKTREE` the package is the nearest
directory holding a `datapackage.json`, from `--repo` (default: the current directory)
up to the repository's top level, so `azkz diff HEAD~1 HEAD` works from `src/` too.

Before comparing, `diff_specs` validates each side (`azkz.validate.validate_package`,
well under a second on this package): a cell that fails its type would otherwise be
NULL on that side and the diff would be silently wrong, so an invalid side is refused
(exit 2) with its first errors as file:line field code and a pointer to `azkz validate`.

Both sides are loaded as typed tables (`azkz.typed.load_tables`, i.e. with the same
Frictionless semantics as validation) into two schemas of one DuckDB connection, and
rows are compared in SQL: a FULL OUTER JOIN on the primary key gives the rows added,
removed and changed and, per field, how many values changed.  Only a capped number of
examples ever reaches Python, so the counts are exact and the cost stays in DuckDB.

Rows are matched on the new primary key, else the old one, provided its fields exist
on both sides with the same type and it is unique on both sides; otherwise whole rows
are compared (a changed row then shows as one removed plus one added) and the report
says so.  Fields whose type changed, or that exist on one side only, cannot be
compared; values are compared on the remaining common fields and the report says so.

SemVer for data (decided here, shown to users by `azkz diff` and `--check-version`):

- **patch**: values changed, rows added or removed, or a constraint loosened (a wider
  enum, a dropped `required`, a removed foreign key); documentation changed: any field
  property that does not change how a cell is read (`description`, `title`,
  `example(s)`, `unitField`, `rdfType` and any custom property, reported as "metadata
  changed"), and the package's title, description, keywords, contributors, sources and
  homepage, and a resource's title and description: everything a consumer already does
  with the data keeps working.
- **minor**: a new table or a new field.
- **major**: a table or field removed or renamed (a rename is detected when a removed
  and an added table have identical fields, or a removed and an added field share
  position and type, and is called out as such), a changed type or a field property
  that changes how values are read or what they mean (`format`, `trueValues`,
  `falseValues`, `missingValues` of a field or schema, `bareNumber`, `decimalChar`,
  `groupChar`, a fixed `unit`), fields reordered (positional readers break), a changed
  primary key, a tighter constraint (new `required`/`unique`, narrower enum, new or
  changed `pattern`, higher minimum, lower maximum, new foreign key), a changed
  `licenses` or package `name` (users' right to reuse and their citations and
  catalogue entries depend on them), and a changed resource `dialect` or `encoding`
  (the CSV bytes are read differently).

Strict SemVer is applied also below 1.0.0: a breaking change to 0.1.0 needs 1.0.0.

Releases: `release_step` (a step of `azkz build`) writes into the staged release
`changes.json`, the row-level delta against the previous version listed in
`dist/index.json` (ADD/DEL entries carry the whole row, MOD entries the changed
fields old → new, all sorted by primary key; every release has the same keys: with no
previous version the file says `"initial_release": true`, `"bump": null`, no schema
changes and no rows rather than repeating the whole data),
and `CHANGELOG.md`: a section generated from the diff followed by the curated entry
for this version from the repository's `CHANGELOG.md`, if it has one.  Only that
entry is copied, not the whole file, so later edits of other entries never change an
existing release.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from azkz.docs import md_table
from azkz.releases import ReleaseError, Version
from azkz.report import plural
from azkz.schema import DESCRIPTOR, Package, Table, field_list, read_package
from azkz.typed import ident_list, load_tables, quote_ident, quote_literal

BUMPS = ("none", "patch", "minor", "major")
WORKTREE = "WORKTREE"
EXAMPLES = 10
_OLD, _NEW = "old_side", "new_side"


class DiffError(Exception):
    """A side cannot be read (bad path, unknown ref, unreadable data): exit code 2."""


def _max_bump(bumps: Iterator[str] | list[str]) -> str:
    return max(bumps, key=BUMPS.index, default="none")


# ---------------------------------------------------------------------------
# Result types


@dataclass
class SchemaChange:
    """One schema difference and the bump it alone requires."""

    bump: str
    table: str
    field: str | None
    kind: str
    detail: str


@dataclass
class TableDiff:
    """Row-level comparison of one table present on both sides (possibly renamed)."""

    name: str
    old_name: str
    old_rows: int
    new_rows: int
    matched_on: list[str]  # key fields; empty when whole rows were compared
    added: int = 0
    removed: int = 0
    changed: int = 0
    field_changes: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class Side:
    label: str
    version: str


@dataclass
class Diff:
    old: Side
    new: Side
    tables: list[TableDiff]
    schema_changes: list[SchemaChange]
    added_tables: dict[str, int] = field(default_factory=dict)  # name -> rows
    removed_tables: dict[str, int] = field(default_factory=dict)

    @property
    def bump(self) -> str:
        """The least version bump that honestly describes the change."""
        data = "patch" if any(t.has_changes for t in self.tables) else "none"
        return _max_bump([data, *(c.bump for c in self.schema_changes)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": asdict(self.old),
            "new": asdict(self.new),
            "bump": self.bump,
            "schema_changes": [asdict(c) for c in self.schema_changes],
            "added_tables": self.added_tables,
            "removed_tables": self.removed_tables,
            "tables": [asdict(t) for t in self.tables],
        }


# ---------------------------------------------------------------------------
# Opening a side: path, working tree or git ref


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode:
        raise DiffError(proc.stderr.strip() or f"git {' '.join(args)} failed")
    return proc.stdout


def _export_git_ref(ref: str, repo: Path, dest: Path) -> Path:
    """Write the package files as they are at `ref` into `dest` using `git archive`.

    Every path given to git is relative to the repository's top level, and git runs
    there, because pathspecs (`git archive ... -- paths`) are read relative to the
    directory git runs in.
    """
    try:
        top, prefix = _git(repo, "rev-parse", "--show-toplevel", "--show-prefix").splitlines()
    except DiffError:
        raise DiffError(
            f"{ref!r} is not an existing path, and {repo} is not inside a git repository "
            "to look it up as a git ref"
        ) from None
    try:
        commit = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
    except DiffError:
        raise DiffError(
            f"{ref!r} is neither an existing path nor a git ref of the repository at {repo}"
        ) from None
    repo = Path(top)
    prefix = _package_prefix(repo, commit.strip(), prefix)
    if prefix is None:
        raise DiffError(f"git ref {ref!r} has no {DESCRIPTOR}")
    tree = f"{commit.strip()}:{prefix}"
    descriptor_text = _git(repo, "show", f"{tree}{DESCRIPTOR}")
    paths = [DESCRIPTOR, *_descriptor_paths(descriptor_text)]
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "archive", "--format=tar", tree, "--", *paths],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            archive.extractall(dest, filter="data")
        unpack_error = ""
    except tarfile.TarError as exc:
        unpack_error = str(exc)
    stderr = proc.stderr.read().decode(errors="replace").strip()
    if proc.wait() or unpack_error:
        raise DiffError(f"git ref {ref!r}: cannot read the package files: {stderr or unpack_error}")
    return dest


def _package_prefix(repo: Path, commit: str, prefix: str) -> str | None:
    """Where the package is at `commit`, relative to the repository top level.

    `prefix` is where the diff was asked from (`git rev-parse --show-prefix`; `repo` is
    the top level); the package is the nearest of it and its parents holding a
    descriptor at that commit, so a diff run from `src/` (or with `--repo src`) finds the
    top-level package.
    """
    parts = Path(prefix).parts
    for depth in range(len(parts), -1, -1):
        candidate = "".join(f"{p}/" for p in parts[:depth])
        check = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "-e", f"{commit}:{candidate}{DESCRIPTOR}"],
            capture_output=True,
        )
        if check.returncode == 0:
            return candidate
    return None


def _descriptor_paths(text: str) -> list[str]:
    """Data and schema paths a descriptor names; safety is checked by `read_package`."""
    try:
        resources = json.loads(text).get("resources", [])
    except (json.JSONDecodeError, AttributeError):
        return []  # read_package reports the broken descriptor precisely
    paths = []
    for res in resources if isinstance(resources, list) else []:
        if isinstance(res, dict):
            paths += [p for p in (res.get("path"), res.get("schema")) if isinstance(p, str)]
    return sorted({p for p in paths if "://" not in p and ".." not in Path(p).parts})


def _worktree_package(repo: Path) -> Path:
    """The nearest directory from `repo` up to the repository top level with a descriptor."""
    try:
        top = Path(_git(repo, "rev-parse", "--show-toplevel").strip()).resolve()
    except DiffError:
        return repo  # not a repository: only `repo` itself can hold the package
    for directory in [repo.resolve(), *repo.resolve().parents]:
        if (directory / DESCRIPTOR).is_file() or directory == top:
            return directory
    return repo


def open_side(spec: str, repo: Path, stack: ExitStack) -> tuple[Package, str]:
    """Read one side of the diff as a Package; temporary files live as long as `stack`."""
    path = Path(spec)
    if spec == WORKTREE:
        path = _worktree_package(repo)
    if path.exists():
        if path.is_file() and path.name != DESCRIPTOR:
            raise DiffError(f"{spec}: expected a release directory or a {DESCRIPTOR}")
        if path.is_dir() and not (path / DESCRIPTOR).is_file():
            raise DiffError(f"{spec}: directory has no {DESCRIPTOR}")
        package = read_package(path)
        return package, spec
    dest = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azkz-diff-")))
    return read_package(_export_git_ref(spec, repo, dest)), spec


INVALID_SHOWN = 5


def require_valid(package: Package, label: str, spec: str) -> None:
    """Refuse an invalid side: failing cells would otherwise be NULL and diff silently."""
    from azkz.validate import validate_package

    report = validate_package(package.root)
    if report.valid:
        return
    shown = [
        f"{e.get('path') or DESCRIPTOR}"
        + (f":{e['line']}" if e.get("line") else "")
        + (f" {e['field']}" if e.get("field") else "")
        + f" {e['code']}"
        for e in report.errors[:INVALID_SHOWN]
    ]
    more = len(report.errors) - len(shown)
    where = (
        f"`azkz validate {spec}`"
        if Path(spec).exists()
        else f"`azkz validate` on a checkout of {spec}"
    )
    raise DiffError(
        f"{label} ({spec}) is not a valid package, so it cannot be compared: "
        f"{plural(len(report.errors), 'error')} ({'; '.join(shown)}"
        f"{f'; … and {more} more' if more else ''}); run {where} for the full report"
    )


# ---------------------------------------------------------------------------
# Schema comparison


def _signature(table: Table) -> list[tuple[str, str]]:
    return [(f.name, f.type) for f in table.fields]


def _pair_tables(
    old: Package, new: Package
) -> tuple[list[tuple[Table, Table]], list[Table], list[Table], list[SchemaChange]]:
    """Tables on both sides (renames included), removed tables, added tables."""
    new_names = {t.name for t in new.tables}
    old_names = {t.name for t in old.tables}
    pairs = [(t, new.table(t.name)) for t in old.tables if t.name in new_names]
    removed = [t for t in old.tables if t.name not in new_names]
    added = [t for t in new.tables if t.name not in old_names]
    changes = []
    for old_table in list(removed):
        twin = next((t for t in added if _signature(t) == _signature(old_table)), None)
        if twin is None:
            continue
        removed.remove(old_table)
        added.remove(twin)
        pairs.append((old_table, twin))
        changes.append(
            SchemaChange(
                "major",
                twin.name,
                None,
                "table renamed",
                f"table {old_table.name!r} renamed to {twin.name!r} (same fields)",
            )
        )
    changes += [
        SchemaChange("major", t.name, None, "table removed", f"table {t.name!r} removed")
        for t in removed
    ]
    changes += [
        SchemaChange("minor", t.name, None, "table added", f"table {t.name!r} added") for t in added
    ]
    return pairs, removed, added, changes


def _pair_fields(old: Table, new: Table) -> tuple[dict[str, str], list[SchemaChange]]:
    """Map old field names to new ones (renames included) and report field changes."""
    new_names = set(new.field_names)
    mapping = {name: name for name in old.field_names if name in new_names}
    changes = []
    gone = [name for name in old.field_names if name not in new_names]
    fresh = {name for name in new.field_names if name not in mapping.values()}
    for position, name in enumerate(old.field_names):
        if name not in gone or position >= len(new.fields):
            continue
        candidate = new.fields[position]
        if candidate.name in fresh and candidate.type == old.fields[position].type:
            mapping[name] = candidate.name
            gone.remove(name)
            fresh.discard(candidate.name)
            changes.append(
                SchemaChange(
                    "major",
                    new.name,
                    candidate.name,
                    "field renamed",
                    f"field {name!r} renamed to {candidate.name!r} (same position and type)",
                )
            )
    changes += [
        SchemaChange("major", new.name, n, "field removed", f"field {n!r} removed") for n in gone
    ]
    changes += [
        SchemaChange("minor", new.name, n, "field added", f"field {n!r} added")
        for n in new.field_names
        if n in fresh
    ]
    common_old_order = [mapping[n] for n in old.field_names if n in mapping]
    common_new_order = [n for n in new.field_names if n in mapping.values()]
    if common_old_order != common_new_order:
        changes.append(
            SchemaChange(
                "major",
                new.name,
                None,
                "fields reordered",
                f"column order changed: {', '.join(common_old_order)} → {', '.join(common_new_order)}",
            )
        )
    return mapping, changes


# Constraints where a larger value is tighter, and where a smaller one is.
_LOWER_BOUNDS = {"minimum", "exclusiveMinimum", "minLength"}
_UPPER_BOUNDS = {"maximum", "exclusiveMaximum", "maxLength"}
# Field properties that change how a cell is read or what a value means: changing them is
# major.  Every other property (description, title, example(s), unitField, rdfType, any
# custom property) only documents the field and is a patch.
_FIELD_MEANING = {
    "format",
    "trueValues",
    "falseValues",
    "missingValues",
    "bareNumber",
    "decimalChar",
    "groupChar",
    "unit",
}


def _constraint_bump(key: str, before: Any, after: Any) -> str:
    """'major' when `after` admits fewer values than `before`, else 'patch'."""
    if after is None or after is False:
        return "patch"  # dropped: looser
    if before is None or before is False:
        return "major"  # new constraint
    if key == "enum":
        return "patch" if set(map(str, before)) <= set(map(str, after)) else "major"
    try:
        if key in _LOWER_BOUNDS:
            return "major" if after > before else "patch"
        if key in _UPPER_BOUNDS:
            return "major" if after < before else "patch"
    except TypeError:
        return "major"
    return "major"  # a changed pattern (or unknown constraint) may reject existing values


def _compare_field(table: str, old_f, new_f) -> list[SchemaChange]:
    name = new_f.name
    changes = []
    if old_f.type != new_f.type:
        changes.append(
            SchemaChange("major", table, name, "type changed", f"type {old_f.type} → {new_f.type}")
        )
    for key in sorted(set(old_f.constraints) | set(new_f.constraints)):
        before, after = old_f.constraints.get(key), new_f.constraints.get(key)
        if before != after:
            bump = _constraint_bump(key, before, after)
            word = "tightened" if bump == "major" else "loosened"
            changes.append(
                SchemaChange(
                    bump,
                    table,
                    name,
                    f"constraint {word}",
                    f"{key}: {_show(before)} → {_show(after)}",
                )
            )
    for key in sorted(set(old_f.raw) | set(new_f.raw)):
        before, after = old_f.raw.get(key), new_f.raw.get(key)
        if before == after or key in {"name", "type", "constraints"}:
            continue
        if key in _FIELD_MEANING:
            changes.append(
                SchemaChange(
                    "major",
                    table,
                    name,
                    "field property changed",
                    f"{key}: {_show(before)} → {_show(after)}",
                )
            )
        else:
            changes.append(
                SchemaChange(
                    "patch", table, name, "metadata changed", _metadata_detail(key, before, after)
                )
            )
    return changes


def _named(value: Any) -> Any:
    """Licences, contributors, sources: by their names, which is what a reader compares."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        names = [v.get("name") or v.get("title") for v in value]
        if all(isinstance(n, str) for n in names):
            return ", ".join(names)
    return value


def _metadata_detail(key: str, before: Any, after: Any) -> str:
    """Prose is only said to be reworded; short values are shown old → new."""
    if _named(before) != _named(after):
        before, after = _named(before), _named(after)
    if before is None:
        return f"{key} added: {_show(after, 80)}"
    if after is None:
        return f"{key} removed"
    if isinstance(before, str) and isinstance(after, str) and len(before) + len(after) > 80:
        return f"{key} reworded"
    return f"{key}: {_show(before, 80)} → {_show(after, 80)}"


def _normal_foreign_keys(table: Table, rename: dict[str, str]) -> set[str]:
    keys = set()
    for fk in table.foreign_keys:
        fields = field_list(fk.get("fields", []))
        ref = dict(fk.get("reference", {}))
        keys.add(
            json.dumps(
                {"fields": [rename.get(f, f) for f in fields], "reference": ref},
                sort_keys=True,
                ensure_ascii=False,
            )
        )
    return keys


def _compare_keys(old: Table, new: Table, mapping: dict[str, str]) -> list[SchemaChange]:
    changes = []
    old_pk = [mapping.get(f, f) for f in old.primary_key]
    if old_pk != new.primary_key:
        changes.append(
            SchemaChange(
                "major",
                new.name,
                None,
                "primary key changed",
                f"primary key ({', '.join(old.primary_key)}) → ({', '.join(new.primary_key)})",
            )
        )
    before, after = _normal_foreign_keys(old, mapping), _normal_foreign_keys(new, {})
    changes += [
        SchemaChange("major", new.name, None, "foreign key added", fk)
        for fk in sorted(after - before)
    ]
    changes += [
        SchemaChange("patch", new.name, None, "foreign key removed", fk)
        for fk in sorted(before - after)
    ]
    return changes


def _show(value: Any, width: int | None = None) -> str:
    text = "none" if value is None else json.dumps(value, ensure_ascii=False)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------
# Row comparison in DuckDB


def _relation(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _load(package: Package, schema: str, label: str, con) -> None:
    con.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    con.execute(f"USE {quote_ident(schema)}")
    try:
        load_tables(package, con)
    except duckdb.Error as exc:
        raise DiffError(_load_error(package, schema, label, con, exc)) from None
    finally:
        con.execute("USE memory.main")


def _load_error(package: Package, schema: str, label: str, con, exc: duckdb.Error) -> str:
    """Name the file that failed (the first table not loaded) and the line DuckDB gave."""
    loaded = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [schema]
        ).fetchall()
    }
    failed = next((t for t in package.tables if t.name not in loaded), None)
    where = failed.path if failed else "the data"
    line = re.search(r"\bLine: (\d+)", str(exc))
    where += f", line {line.group(1)}" if line and failed else ""
    reason = str(exc).splitlines()[0]
    return (
        f"{label}: cannot read {where}: {reason}; run `azkz validate` on that side "
        "for the full report"
    )


def _row_count(con, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]


def _is_unique(con, relation: str, columns: list[str]) -> bool:
    cols = ident_list(columns)
    dupes = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {relation} GROUP BY {cols} HAVING count(*) > 1)"
    ).fetchall()[0][0]
    return dupes == 0


def _choose_key(con, old: Table, new: Table, comparable: dict[str, str]) -> list[str]:
    """New-side names of a key usable on both sides, or [] to compare whole rows."""
    reverse = {n: o for o, n in comparable.items()}
    for key in (new.row_key, [comparable.get(f) for f in old.row_key]):
        if not key or any(k not in reverse for k in key):
            continue
        if _is_unique(con, _relation(_OLD, old.name), [reverse[k] for k in key]) and _is_unique(
            con, _relation(_NEW, new.name), key
        ):
            return key
    return []


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _comparable_fields(old: Table, new: Table, mapping: dict[str, str]) -> dict[str, str]:
    return {o: n for o, n in mapping.items() if old.field(o).type == new.field(n).type}


class _TableComparison:
    """The diff rows of one table pair, materialised once in a temp table."""

    def __init__(self, con, index: int, old: Table, new: Table, mapping: dict[str, str]):
        self.con, self.old, self.new = con, old, new
        self.comparable = _comparable_fields(old, new, mapping)
        self.key = _choose_key(con, old, new, self.comparable)
        self.temp = f"azkz_diff_{index}"
        self.old_cols = old.field_names
        self.new_cols = new.field_names
        if self.key:
            self._join()
        else:
            self._except()

    def _join(self) -> None:
        reverse = {n: o for o, n in self.comparable.items()}
        on = " AND ".join(
            f"o.{quote_ident(reverse[k])} IS NOT DISTINCT FROM n.{quote_ident(k)}" for k in self.key
        )
        self.value_pairs = [(o, n) for o, n in self.comparable.items() if n not in self.key]
        differs = (
            " OR ".join(
                f"o.{quote_ident(o)} IS DISTINCT FROM n.{quote_ident(n)}"
                for o, n in self.value_pairs
            )
            or "false"
        )
        keys = ", ".join(
            f"coalesce(n.{quote_ident(k)}, o.{quote_ident(reverse[k])}) AS k{i}"
            for i, k in enumerate(self.key)
        )
        olds = ", ".join(f"o.{quote_ident(c)} AS o{i}" for i, c in enumerate(self.old_cols))
        news = ", ".join(f"n.{quote_ident(c)} AS n{i}" for i, c in enumerate(self.new_cols))
        self.con.execute(f"""
            CREATE TEMP TABLE {self.temp} AS
            SELECT CASE WHEN o.azkz_in_old IS NULL THEN 'ADD'
                        WHEN n.azkz_in_new IS NULL THEN 'DEL' ELSE 'MOD' END AS op,
                   {keys}, {olds}, {news}
            FROM (SELECT *, true AS azkz_in_old FROM {_relation(_OLD, self.old.name)}) o
            FULL OUTER JOIN (SELECT *, true AS azkz_in_new FROM {_relation(_NEW, self.new.name)}) n
              ON {on}
            WHERE o.azkz_in_old IS NULL OR n.azkz_in_new IS NULL OR {differs}""")

    def _except(self) -> None:
        """No usable key: multiset difference of whole rows on the comparable fields."""
        self.key = []
        self.value_pairs = []
        old_cols = ident_list(self.comparable)
        new_cols = ident_list(self.comparable.values())
        aliases = ", ".join(f"k{i}" for i in range(len(self.comparable)))
        old_rel, new_rel = _relation(_OLD, self.old.name), _relation(_NEW, self.new.name)
        self.con.execute(f"""
            CREATE TEMP TABLE {self.temp} AS
            SELECT 'DEL' AS op, * FROM (SELECT {old_cols} FROM {old_rel}
                                        EXCEPT ALL SELECT {new_cols} FROM {new_rel}) d({aliases})
            UNION ALL
            SELECT 'ADD' AS op, * FROM (SELECT {new_cols} FROM {new_rel}
                                        EXCEPT ALL
                                        SELECT {old_cols} FROM {old_rel}) a({aliases})""")

    @property
    def key_names(self) -> list[str]:
        return self.key or list(self.comparable.values())

    def counts(self) -> dict[str, int]:
        rows = self.con.execute(f"SELECT op, count(*) FROM {self.temp} GROUP BY op").fetchall()
        return {op: n for op, n in rows}

    def field_changes(self) -> dict[str, int]:
        if not self.value_pairs:
            return {}
        sums = ", ".join(
            f"count(*) FILTER (WHERE o{self.old_cols.index(o)} IS DISTINCT FROM "
            f"n{self.new_cols.index(n)})"
            for o, n in self.value_pairs
        )
        counts = self.con.execute(f"SELECT {sums} FROM {self.temp} WHERE op = 'MOD'").fetchall()[0]
        return {n: c for (_, n), c in zip(self.value_pairs, counts, strict=True) if c}

    def entries(self, op: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Diff rows as JSON-ready dicts, sorted by key (all ops when `op` is None)."""
        where = f"WHERE op = {quote_literal(op)}" if op else ""
        order = ", ".join(f"k{i}" for i in range(len(self.key_names))) + ", op"
        cursor = self.con.execute(
            f"SELECT * FROM {self.temp} {where} ORDER BY {order}"
            + (f" LIMIT {int(limit)}" if limit is not None else "")
        )
        names = [d[0] for d in cursor.description]
        return [self._entry(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def _entry(self, row: dict[str, Any]) -> dict[str, Any]:
        key = {k: _json_value(row[f"k{i}"]) for i, k in enumerate(self.key_names)}
        entry: dict[str, Any] = {"op": row["op"], "key": key}
        if not self.key:
            return entry
        if row["op"] == "ADD":
            entry["row"] = {c: _json_value(row[f"n{i}"]) for i, c in enumerate(self.new_cols)}
        elif row["op"] == "DEL":
            entry["row"] = {c: _json_value(row[f"o{i}"]) for i, c in enumerate(self.old_cols)}
        else:
            entry["changes"] = {
                n: [
                    _json_value(row[f"o{self.old_cols.index(o)}"]),
                    _json_value(row[f"n{self.new_cols.index(n)}"]),
                ]
                for o, n in self.value_pairs
                if row[f"o{self.old_cols.index(o)}"] != row[f"n{self.new_cols.index(n)}"]
            }
        return entry

    def notes(self, mapping: dict[str, str]) -> list[str]:
        notes = []
        if not self.key:
            notes.append(
                "no primary key usable on both sides (missing, changed type or not unique): "
                "whole rows compared, so a changed row counts as one removed and one added"
            )
        skipped = sorted(set(mapping.values()) - set(self.comparable.values()))
        if skipped:
            which = "field whose type" if len(skipped) == 1 else "fields whose types"
            notes.append(f"values not compared for the {which} changed: {', '.join(skipped)}")
        one_sided = sorted(set(self.old_cols) - set(mapping)) + sorted(
            set(self.new_cols) - set(mapping.values())
        )
        if one_sided:
            notes.append(
                "compared on the common fields only; not on "
                + ", ".join(one_sided)
                + " (present on one side)"
            )
        return notes


def _table_schema_changes(old: Table, new: Table) -> tuple[dict[str, str], list[SchemaChange]]:
    """Field mapping (old name -> new name) and every schema change within one table."""
    mapping, changes = _pair_fields(old, new)
    for o, n in mapping.items():
        changes += _compare_field(new.name, old.field(o), new.field(n))
    before, after = old.schema.get("missingValues"), new.schema.get("missingValues")
    if before != after:
        detail = f"schema missingValues: {_show(before)} → {_show(after)}"
        changes.append(SchemaChange("major", new.name, None, "missing values changed", detail))
    return mapping, changes + _compare_keys(old, new, mapping)


# Descriptor properties compared, with the bump a change of each needs.  Users rely on
# the licence and the package name (citations, catalogues, `import`), and the dialect
# and encoding say how the CSV bytes are read; the rest is documentation.
PACKAGE_PROPERTIES = {
    "name": "major",
    "licenses": "major",
    "title": "patch",
    "description": "patch",
    "keywords": "patch",
    "contributors": "patch",
    "sources": "patch",
    "homepage": "patch",
}
RESOURCE_PROPERTIES = {
    "dialect": "major",
    "encoding": "major",
    "title": "patch",
    "description": "patch",
}


def _property_changes(
    where: str, before: dict[str, Any], after: dict[str, Any], bumps: dict[str, str], what: str
) -> list[SchemaChange]:
    changes = []
    for key, bump in bumps.items():
        old_value, new_value = before.get(key), after.get(key)
        if old_value != new_value:
            kind = f"{what} {key} changed" if bump == "major" else f"{what} metadata changed"
            detail = _metadata_detail(key, old_value, new_value)
            changes.append(SchemaChange(bump, where, None, kind, detail))
    return changes


def _descriptor_changes(
    old: Package, new: Package, pairs: list[tuple[Table, Table]]
) -> list[SchemaChange]:
    """Package- and resource-level descriptor changes (licence, name, dialect, prose)."""
    changes = _property_changes(
        DESCRIPTOR, old.descriptor, new.descriptor, PACKAGE_PROPERTIES, "package"
    )
    for old_t, new_t in pairs:
        changes += _property_changes(
            new_t.name, old_t.resource, new_t.resource, RESOURCE_PROPERTIES, "resource"
        )
    return changes


def _table_diff(comparison: _TableComparison, mapping: dict[str, str], examples: int):
    con, old, new = comparison.con, comparison.old, comparison.new
    counts = comparison.counts()
    return TableDiff(
        name=new.name,
        old_name=old.name,
        old_rows=_row_count(con, _relation(_OLD, old.name)),
        new_rows=_row_count(con, _relation(_NEW, new.name)),
        matched_on=comparison.key,
        added=counts.get("ADD", 0),
        removed=counts.get("DEL", 0),
        changed=counts.get("MOD", 0),
        field_changes=comparison.field_changes(),
        examples={
            op: comparison.entries(op, examples) for op in ("ADD", "DEL", "MOD") if counts.get(op)
        },
        notes=comparison.notes(mapping),
    )


def _compare(old: Package, new: Package, examples: int, full: bool):
    """The Diff and, with `full`, every row entry per table (for changes.json)."""
    pairs, removed, added, changes = _pair_tables(old, new)
    changes = _descriptor_changes(old, new, pairs) + changes
    con = duckdb.connect()
    try:
        _load(old, _OLD, "old side", con)
        _load(new, _NEW, "new side", con)
        tables, all_entries = [], {}
        for index, (old_t, new_t) in enumerate(pairs):
            mapping, table_changes = _table_schema_changes(old_t, new_t)
            changes += table_changes
            comparison = _TableComparison(con, index, old_t, new_t, mapping)
            tables.append(_table_diff(comparison, mapping, examples))
            if full:
                all_entries[new_t.name] = comparison.entries()
        diff = Diff(
            old=Side("", old.version),
            new=Side("", new.version),
            tables=tables,
            schema_changes=changes,
            added_tables={t.name: _row_count(con, _relation(_NEW, t.name)) for t in added},
            removed_tables={t.name: _row_count(con, _relation(_OLD, t.name)) for t in removed},
        )
    finally:
        con.close()
    return diff, all_entries


def diff_packages(old: Package, new: Package, examples: int = EXAMPLES) -> Diff:
    """Compare two packages: schema changes, row counts per table, the bump needed."""
    diff, _ = _compare(old, new, examples, full=False)
    diff.old.label, diff.new.label = str(old.root), str(new.root)
    return diff


def diff_specs(old: str, new: str, repo: Path = Path("."), examples: int = EXAMPLES) -> Diff:
    """`diff_packages` for what the user typed: paths, `WORKTREE` or git refs."""
    with ExitStack() as stack:
        old_pkg, old_label = open_side(old, repo, stack)
        new_pkg, new_label = open_side(new, repo, stack)
        require_valid(old_pkg, "old side", old)
        require_valid(new_pkg, "new side", new)
        diff = diff_packages(old_pkg, new_pkg, examples)
    diff.old.label, diff.new.label = old_label, new_label
    return diff


# ---------------------------------------------------------------------------
# Version check


def parse_version(version: str, label: str) -> tuple[int, int, int]:
    """MAJOR, MINOR, PATCH of one side's version (`azkz.releases.Version` parses it)."""
    try:
        return Version.parse(version).core
    except ReleaseError as exc:
        raise DiffError(f"{label}: {exc}") from None


def version_bump(old: str, new: str) -> str:
    """How far `new` is from `old`: none, patch, minor, major, or 'downgrade'."""
    a, b = parse_version(old, "old side"), parse_version(new, "new side")
    if b < a:
        return "downgrade"
    if b[0] > a[0]:
        return "major"
    if b[1] > a[1]:
        return "minor"
    return "patch" if b[2] > a[2] else "none"


def check_version(diff: Diff) -> tuple[bool, str]:
    """Is NEW's version bumped at least as much as the change needs? (ok, message)."""
    needed = diff.bump
    done = version_bump(diff.old.version, diff.new.version)
    versions = f"{diff.old.version} → {diff.new.version}"
    if done == "downgrade":
        return False, f"version goes backwards ({versions}); it must increase"
    if BUMPS.index(done) >= BUMPS.index(needed):
        if needed == "none":
            return True, f"no data or schema changes; version {versions} is fine"
        return True, (
            f"version {versions} is a {done} bump, enough for these changes (they need {needed})"
        )
    reasons = [c for c in diff.schema_changes if c.bump == needed] if needed != "patch" else []
    why = "; ".join(f"{c.table}{'.' + c.field if c.field else ''}: {c.detail}" for c in reasons[:5])
    advice = f"bump version in {DESCRIPTOR} to {suggest_version(diff.old.version, needed)}"
    return False, (
        f"version {versions} is {'not bumped' if done == 'none' else 'a ' + done + ' bump'}, "
        f"but the changes need a {needed} bump{' (' + why + ')' if why else ''}: {advice}"
    )


def suggest_version(old: str, bump: str) -> str:
    major, minor, patch = parse_version(old, "old side")
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# ---------------------------------------------------------------------------
# Rendering


def _key_text(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_cell(v)}" for k, v in key.items())


def _cell(value: Any, width: int = 60) -> str:
    text = "∅" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _example_lines(t: TableDiff) -> list[str]:
    lines = []
    for op, mark, total in (
        ("ADD", "+", t.added),
        ("DEL", "-", t.removed),
        ("MOD", "~", t.changed),
    ):
        for entry in t.examples.get(op, []):
            line = f"{mark} {_key_text(entry['key'])}"
            if op == "MOD":
                line += ": " + "; ".join(
                    f"{f}: {_cell(a)} → {_cell(b)}" for f, (a, b) in entry["changes"].items()
                )
            lines.append(line)
        shown = len(t.examples.get(op, []))
        if total > shown:
            lines.append(f"{mark} … and {total - shown} more")
    return lines


def _table_rows(diff: Diff) -> list[tuple[str, str, str, str, str, str]]:
    rows = [
        (
            t.name if t.name == t.old_name else f"{t.old_name} → {t.name}",
            str(t.old_rows),
            str(t.new_rows),
            str(t.added),
            str(t.removed),
            str(t.changed),
        )
        for t in diff.tables
    ]
    rows += [
        (f"{n} (new table)", "–", str(c), str(c), "0", "0") for n, c in diff.added_tables.items()
    ]
    rows += [
        (f"{n} (removed table)", str(c), "–", "0", str(c), "0")
        for n, c in diff.removed_tables.items()
    ]
    return rows


_HEADERS = ("table", "old rows", "new rows", "added", "removed", "changed")


def _change_text(c: SchemaChange) -> str:
    where = c.table + (f".{c.field}" if c.field else "")
    return f"[{c.bump}] {where}: {c.kind}: {c.detail}"


def render_text(diff: Diff) -> str:
    out = [
        f"{diff.old.label} ({diff.old.version}) → {diff.new.label} ({diff.new.version})",
        f"Required version bump: {diff.bump}",
        "",
    ]
    rows = [_HEADERS, *_table_rows(diff)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADERS))]
    for r in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    if diff.schema_changes:
        out += ["", f"Schema changes ({len(diff.schema_changes)}):"]
        out += [f"  {_change_text(c)}" for c in diff.schema_changes]
    for t in diff.tables:
        if not (t.has_changes or t.notes):
            continue
        out += ["", f"{t.name}: matched on {', '.join(t.matched_on) or 'whole rows'}"]
        out += [f"  note: {n}" for n in t.notes]
        if t.field_changes:
            out.append(
                "  changed fields: " + ", ".join(f"{f} ({n})" for f, n in t.field_changes.items())
            )
        out += [f"  {line}" for line in _example_lines(t)]
    return "\n".join(out) + "\n"


def _md(value: Any) -> str:
    return _cell(value, 80).replace("|", "\\|")


def render_markdown(diff: Diff) -> str:
    """A pull-request comment: summary table first, details collapsed."""
    out = [
        f"### Data diff: `{diff.old.label}` ({diff.old.version}) → "
        f"`{diff.new.label}` ({diff.new.version})",
        "",
        f"**Required version bump: {diff.bump}**",
        "",
        *md_table(list(_HEADERS), _table_rows(diff), cell=_md),
    ]
    if diff.schema_changes:
        out += [
            "",
            f"<details><summary>Schema changes ({len(diff.schema_changes)})</summary>",
            "",
            *md_table(
                ["bump", "table", "field", "change", "detail"],
                ([c.bump, c.table, c.field or "", c.kind, c.detail] for c in diff.schema_changes),
                cell=_md,  # bump and kind are fixed short words: unchanged by _md
            ),
            "",
            "</details>",
        ]
    for t in diff.tables:
        if not (t.has_changes or t.notes):
            continue
        out += [
            "",
            f"<details><summary>{t.name}: {t.added} added, {t.removed} removed, "
            f"{t.changed} changed</summary>",
            "",
            f"Matched on: {', '.join(f'`{k}`' for k in t.matched_on) or 'whole rows'}",
        ]
        out += [f"> **Note:** {n}" for n in t.notes]
        if t.field_changes:
            rows = ([f"`{f}`", n] for f, n in t.field_changes.items())
            out += ["", *md_table(["field", "values changed"], rows, cell=str)]
        lines = _example_lines(t)
        if lines:
            out += ["", "```diff", *lines, "```"]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def render_json(diff: Diff) -> str:
    return json.dumps(diff.to_dict(), indent=2, ensure_ascii=False, default=_json_value) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


# ---------------------------------------------------------------------------
# Release artefacts: changes.json and the CHANGELOG section


def changes_document(old: Package | None, new: Package) -> dict[str, Any]:
    """The row-level delta of a release against the previous one (None: first release)."""
    if old is None:
        return {
            "version": new.version,
            "previous_version": None,
            "initial_release": True,
            "rows": _row_counts(new),
            "bump": None,
            "schema_changes": [],
            "added_tables": {},
            "removed_tables": {},
            "tables": {},
        }
    diff, entries = _compare(old, new, 0, full=True)
    rows = {t.name: t.new_rows for t in diff.tables} | diff.added_tables
    return {
        "version": new.version,
        "previous_version": old.version,
        "initial_release": False,
        "rows": {t.name: rows[t.name] for t in new.tables},
        "bump": diff.bump,
        "schema_changes": [asdict(c) for c in diff.schema_changes],
        "added_tables": diff.added_tables,
        "removed_tables": diff.removed_tables,
        "tables": {
            t.name: {
                "old_name": t.old_name,
                "matched_on": t.matched_on,
                "added": t.added,
                "removed": t.removed,
                "changed": t.changed,
                "notes": t.notes,
                "entries": entries[t.name],
            }
            for t in diff.tables
            if t.has_changes
        },
    }


def _row_counts(package: Package) -> dict[str, int]:
    con = duckdb.connect()
    try:
        load_tables(package, con)
        return {t.name: _row_count(con, quote_ident(t.name)) for t in package.tables}
    finally:
        con.close()


def changelog_section(
    document: dict[str, Any], version: str, date: str = "", curated: str = ""
) -> str:
    """Keep a Changelog section for `version`: the curated notes, then the generated diff."""
    head = f"## [{version}]" + (f" - {date}" if date else "")
    lines = [head, *(["", curated] if curated else []), "", "### Data changes (generated)", ""]
    if document["initial_release"]:
        lines += ["First release: there is no earlier version to compare with. Tables:", ""]
        lines += [f"- `{name}`: {plural(count, 'row')}" for name, count in document["rows"].items()]
        return "\n".join(lines) + "\n"
    lines.append(
        f"Compared with {document['previous_version']} (required version bump: {document['bump']})."
    )
    added = [f"- Table `{n}` ({plural(c, 'row')})." for n, c in document["added_tables"].items()]
    added += [
        f"- {c['table']}: {c['detail']}."
        for c in document["schema_changes"]
        if c["kind"] == "field added"
    ]
    removed = [f"- Table `{n}`." for n in document["removed_tables"]]
    changed = [
        f"- {c['table']}{'.' + c['field'] if c['field'] else ''}: {c['detail']}."
        for c in document["schema_changes"]
        if c["kind"] not in {"field added", "table added", "table removed"}
    ]
    for name, t in document["tables"].items():
        changed.append(
            f"- `{name}`: {plural(t['added'], 'row')} added, {t['removed']} removed, "
            f"{t['changed']} changed."
        )
        changed += _source_changes(t["entries"])
    for title, items in (("Added", added), ("Changed", changed), ("Removed", removed)):
        if items:
            lines += ["", f"#### {title}", "", *items]
    if not (added or changed or removed):
        lines += ["", "No data or schema changes."]
    return "\n".join(lines) + "\n"


def _source_changes(entries: list[dict[str, Any]]) -> list[str]:
    """A table's changed rows whose source changed, one line each (in `annual_series`:
    a new pick, e.g. a statistics office's figure replacing a news report's)."""
    lines = []
    for entry in entries:
        if entry["op"] != "MOD" or "source_id" not in entry["changes"]:
            continue
        old_source, new_source = entry["changes"]["source_id"]
        key = " ".join("∅" if v is None else str(v) for v in entry["key"].values())
        value = entry["changes"].get("value")
        moved = f", value {_cell(value[0])} → {_cell(value[1])}" if value else ""
        lines.append(f"  - {key}: source `{old_source}` → `{new_source}`{moved}.")
    return lines


def curated_entry(changelog: str, version: str) -> str:
    """The `## [version]` entry of a Keep a Changelog file, without its heading."""
    match = re.search(
        rf"^## \[{re.escape(version)}\][^\n]*\n(.*?)(?=^## |^\[|\Z)", changelog, flags=re.M | re.S
    )
    return match.group(1).strip() if match else ""


CHANGES_NAME = "changes.json"
CHANGELOG_NAME = "CHANGELOG.md"


def write_changes(ctx) -> None:
    """Release step (`azkz.build.RELEASE_STEPS`): changes.json and CHANGELOG.md.

    Runs after datapackage.json is staged, so the new side is read exactly like the
    previous release directory (both release descriptors, both normalised CSVs).
    """
    previous = read_package(ctx.previous_release_dir) if ctx.previous_release_dir else None
    document = changes_document(previous, read_package(ctx.stage_dir))
    changes = ctx.stage_dir / CHANGES_NAME
    changes.write_text(
        json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
        newline="\n",
    )
    ctx.log.wrote(changes, ctx.stage_dir)
    repository_changelog = ctx.package.root / CHANGELOG_NAME
    curated = (
        curated_entry(repository_changelog.read_text(encoding="utf-8"), document["version"])
        if repository_changelog.is_file()
        else ""
    )
    section = changelog_section(document, document["version"], ctx.created[:10], curated)
    changelog = ctx.stage_dir / CHANGELOG_NAME
    changelog.write_text(f"# Changelog\n\n{section}", encoding="utf-8", newline="\n")
    ctx.log.wrote(changelog, ctx.stage_dir)
