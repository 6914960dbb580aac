"""Opening a side of a diff and loading its typed tables into DuckDB.

A side is a release directory, a `datapackage.json` (or its directory), the working
tree (`WORKTREE`) or a git ref, read with `git archive` into a temporary directory so
the working tree is never touched.

Trust before comparing: a cell failing its type would be NULL and diff silently, so a
package side is validated first (`require_valid`) and then read as typed tables from
its CSVs.  A release directory was validated when it was built: its `SHA256SUMS` is
checked for the files the diff reads (`datapackage.json`, `data/<table>.parquet`) and
its rows come from its Parquet files, with the types the build gave them.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb

from azkz.core.layout import ReleaseError, is_release, table_file, verify_checksums
from azkz.core.sql import quote_ident, quote_literal
from azkz.derive.annual_series import derive_tables
from azkz.diff.model import WORKTREE, DiffError
from azkz.schema.package import DESCRIPTOR, Package
from azkz.tables.typed import load_tables
from azkz.validate.package import validate_package
from azkz.validate.report import plural


@dataclass
class OpenedSide:
    """One side as the user named it (`spec`) and the directory holding its package."""

    spec: str
    root: Path

    @property
    def release(self) -> bool:
        """A built release: rows from its verified Parquet instead of its CSV."""
        return is_release(self.root)


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
    """The data and schema paths a descriptor names: a derived resource's schema too, but
    not its data file, which only a release holds. Safety is checked by `read_package`."""
    try:
        descriptor = json.loads(text)
        named = [(res, ("path", "schema")) for res in descriptor.get("resources", [])]
        named += [(res, ("schema",)) for res in descriptor.get("derivedResources", [])]
    except (json.JSONDecodeError, AttributeError, TypeError):
        return []  # read_package reports the broken descriptor precisely
    paths = [res.get(key) for res, keys in named if isinstance(res, dict) for key in keys]
    return sorted(
        p for p in set(paths) if isinstance(p, str) and "://" not in p and ".." not in Path(p).parts
    )


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


def open_side(spec: str, repo: Path, stack: ExitStack) -> OpenedSide:
    """Find one side of the diff; temporary files live as long as `stack`."""
    path = Path(spec)
    if spec == WORKTREE:
        path = _worktree_package(repo)
    if path.exists():
        if path.is_file() and path.name != DESCRIPTOR:
            raise DiffError(f"{spec}: expected a release directory or a {DESCRIPTOR}")
        if path.is_dir() and not (path / DESCRIPTOR).is_file():
            raise DiffError(f"{spec}: directory has no {DESCRIPTOR}")
        return OpenedSide(spec, path.parent if path.is_file() else path)
    dest = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azkz-diff-")))
    return OpenedSide(spec, _export_git_ref(spec, repo, dest))


INVALID_SHOWN = 5


def trust(side: OpenedSide, package: Package, label: str) -> None:
    """A release's checksums must hold; any other side must validate (else `DiffError`)."""
    if not side.release:
        require_valid(package, label, side.spec)
        return
    names = [DESCRIPTOR, *(parquet_file(t.name) for t in package.tables)]
    try:
        verify_checksums(side.root, names)
    except ReleaseError as exc:
        raise DiffError(f"{label} ({side.spec}) cannot be trusted: {exc}") from None


def require_valid(package: Package, label: str, spec: str) -> None:
    """Refuse an invalid side: its failing cells would otherwise be NULL and diff silently."""

    report = validate_package(package)
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


def parquet_file(table: str) -> str:
    return table_file(table, "parquet")


def load_side(package: Package, schema: str, label: str, con, valid: bool = False) -> None:
    """Fill `schema` with one typed table per resource: from Parquet or from the CSVs.

    A release's tables are views of its Parquet files: each is read once by the
    comparison (its row count comes from the Parquet metadata), so copying it first
    would only add work.  A package's CSVs are loaded as tables (a derived table and
    the comparison both read them); `valid`: the package is validated before the
    result is used, so the casts skip their lexical checks.
    """
    con.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    if is_release(package.root):
        for table in package.tables:
            path = package.root / parquet_file(table.name)
            if not path.is_file():
                raise DiffError(f"{label}: {path} is missing; build or fetch the release again")
            con.execute(
                f"CREATE VIEW {quote_ident(schema)}.{quote_ident(table.name)} AS "
                f"SELECT * FROM read_parquet({quote_literal(str(path))})"
            )
        return
    con.execute(f"USE {quote_ident(schema)}")
    try:
        load_tables(package, con, valid)
        derive_tables(package, con)
    except duckdb.Error as exc:
        raise DiffError(_load_error(package, schema, label, con, exc)) from None
    finally:
        con.execute("USE memory.main")


BUILD_SCHEMA = "main"  # where the build's connection holds its typed tables


def build_tables_side(package: Package, schema: str, label: str, con, valid: bool = False) -> None:
    """Fill `schema` with views of the typed tables the build already holds in `con`."""
    con.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    for table in package.tables:
        name = quote_ident(table.name)
        con.execute(
            f"CREATE VIEW {quote_ident(schema)}.{name} AS SELECT * FROM {BUILD_SCHEMA}.{name}"
        )


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
