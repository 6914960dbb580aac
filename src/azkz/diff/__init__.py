"""What changed between two versions of the package, and the SemVer bump it needs.

Either side of a diff is a release directory (`dist/<version>/`), a `datapackage.json`
(or the directory holding one), the working tree (`WORKTREE`), or a git ref of the
repository (`v0.1.0`, `origin/main`, `HEAD`).  A git ref is read with `git archive`
into a temporary directory, so the working tree is never touched; `HEAD` is the last
commit, `WORKTREE` (or `.`) the files as they are on disk.  A path that exists wins
over a ref of the same name.  For refs and `WORKTREE` the package is the nearest
directory holding a `datapackage.json`, from `--repo` (default: the current directory)
up to the repository's top level, so `azkz diff HEAD~1 HEAD` works from `src/` too.

Before comparing, `diff_specs` makes sure each side can be trusted: a package side is
validated (`azkz.validate.package.validate_package`), because a cell that fails its type would
otherwise be NULL on that side and the diff silently wrong, and an invalid side is refused
(exit 2) with its first errors as file:line field code and a pointer to `azkz validate`;
a release directory (one with `SHA256SUMS`) was validated when it was built, so instead
the files the diff reads are checked against its `SHA256SUMS`.

Both sides become typed tables in two schemas of one DuckDB connection: a package's CSVs
through `azkz.tables.typed.load_tables` (the same Frictionless semantics as validation), a
release's Parquet files as the build typed them.  Rows are compared in SQL: a FULL OUTER
JOIN on the primary key gives the rows added, removed and changed and, per field, how many
values changed.  Only a capped number of examples ever reaches Python, so the counts are
exact and the cost stays in DuckDB.

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
  `falseValues`, `missingValues` of a field or schema when a value becomes or stops
  being missing (the same values reordered or declared where they were inherited are a
  patch), `bareNumber`, `decimalChar`, `groupChar`, a fixed `unit`), fields reordered
  (positional readers break), a changed primary key, a tighter constraint (new
  `required`/`unique`, narrower enum, new or changed `pattern`, higher minimum, lower
  maximum, new foreign key), a changed `licenses` or package `name` (users' right to
  reuse and their citations and catalogue entries depend on them), and a changed
  resource `dialect` or `encoding` (the CSV bytes are read differently).

Strict SemVer is applied also below 1.0.0: a breaking change to 0.1.0 needs 1.0.0.

Releases: `azkz.release.changes.write_changes` (a step of `azkz build`) writes into
the staged release `changes.json`, the row-level delta against the previous version listed in
`dist/index.json` (ADD/DEL entries carry the whole row, MOD entries the changed
fields old → new, all sorted by primary key; every release has the same keys: with no
previous version the file says `"initial_release": true`, `"bump": null`, no schema
changes and no rows rather than repeating the whole data),
and `CHANGELOG.md`: a section generated from the diff followed by the curated entry
for this version from the repository's `CHANGELOG.md`, if it has one.  Only that
entry is copied, not the whole file, so later edits of other entries never change an
existing release.

One job per module: `model` (the result types), `sides` (opening and trusting a side,
loading its tables), `schema` (schema changes), `rows` (row changes), `compare` (both,
for two packages), `versions` (is the bump enough) and `render` (text, Markdown, JSON).
The release's changes.json and CHANGELOG.md are written by `azkz.release.changes`,
which uses these: the build depends on the diff, never the reverse.

May import: `azkz.validate` (a package side is validated first), `azkz.tables`,
`azkz.schema`, `azkz.core` (`layout`: what a release directory holds).
"""

from azkz.diff.compare import diff_packages, diff_specs
from azkz.diff.model import (
    BUMPS,
    EXAMPLES,
    WORKTREE,
    Diff,
    DiffError,
    SchemaChange,
    Side,
    TableDiff,
)
from azkz.diff.render import RENDERERS, render_json, render_markdown, render_text
from azkz.diff.versions import check_version, parse_version, suggest_version, version_bump

__all__ = [
    "BUMPS",
    "EXAMPLES",
    "RENDERERS",
    "WORKTREE",
    "Diff",
    "DiffError",
    "SchemaChange",
    "Side",
    "TableDiff",
    "check_version",
    "diff_packages",
    "diff_specs",
    "parse_version",
    "render_json",
    "render_markdown",
    "render_text",
    "suggest_version",
    "version_bump",
]
