"""Every name the specs allow works: resource names with `-`, `.`, `_`, digits and
capitals; field names with spaces, quotes, braces, non-ASCII letters or digits only.

A property-based test builds a small package with such names and runs the validator
(valid and invalid), the query layer and the diff on it: no crash, and errors name the
right line and field.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from azkz.access.query import open_database, open_working_tree, run
from azkz.core.sql import quote_ident
from azkz.diff import RENDERERS, diff_packages
from azkz.release.build import build_release
from azkz.schema.package import read_package
from azkz.validate import profile
from azkz.validate.package import validate_package

RESOURCE_NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True)
FIELD_NAMES = st.one_of(
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=10,
    ).filter(lambda s: s.strip() == s and s.strip()),
    st.from_regex(r"[0-9]{1,5}", fullmatch=True),
    st.sampled_from(["a b", 'say "hi"', "{0}", "{name!r}", "Müşahidə", "Қазақ", "%s", "'"]),
)


def write_package(
    root: Path, resource: str, names: list[str], bad: bool, second: str = "2"
) -> None:
    (root / "data").mkdir(parents=True)
    fields = [{"name": names[0], "type": "string"}] + [
        {"name": n, "type": "integer"} for n in names[1:]
    ]
    sources = {  # what `azkz build` needs of any package: the date sources were read
        "name": "sources",
        "path": "data/sources.csv",
        "schema": {
            "fields": [{"name": "source_id"}, {"name": "accessed", "type": "date"}],
            "primaryKey": ["source_id"],
        },
    }
    descriptor = {
        "name": "names",
        "version": "1.0.0",
        "resources": [
            {
                "name": resource,
                "path": "data/t.csv",
                "schema": {"fields": fields, "primaryKey": [names[0]]},
            },
            *([sources] if resource != "sources" else []),
        ],
    }
    (root / "data" / "sources.csv").write_text("source_id,accessed\ns1,2026-01-02\n")
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerow(["a"] + ["1"] * (len(names) - 1))
    writer.writerow(["b"] + ["x" if bad else second] + ["3"] * (len(names) - 2))
    (root / "data" / "t.csv").write_text(out.getvalue(), encoding="utf-8")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(resource="country-codes", names=["Musei", "2011", "2010"], bad=False)
@example(resource="Data.v2_x", names=['say "hi"', "{name!r}", "Қазақ", "a b"], bad=False)
@example(resource="country-codes", names=["Musei", "2011", "2010"], bad=True)
@given(
    resource=RESOURCE_NAMES,
    names=st.lists(FIELD_NAMES, min_size=2, max_size=4, unique=True),
    bad=st.booleans(),
)
def test_names_the_specs_allow(tmp_path_factory, resource, names, bad):
    root = tmp_path_factory.mktemp("names")
    write_package(root, resource, names, bad)
    report = validate_package(root)
    with patch.object(profile, "PROFILE_MIN_BYTES", 0):  # the large-table path too
        assert validate_package(root).errors == report.errors
    if bad:
        [(code, line, field)] = [(e["code"], e["line"], e["field"]) for e in report.errors]
        assert (code, line, field) == ("type-error", 3, names[1])
        assert "'x'" in report.errors[0]["message"]
        return
    assert report.errors == []
    total = f"SELECT count(*), sum({quote_ident(names[1])}) FROM {quote_ident(resource)}"
    assert list(run(open_working_tree(root).con, total).rows) == [(2, 3)]

    built = build_release(root, root / "dist")
    database = open_database(built.path / "names.duckdb", read_package(root))
    assert list(run(database.con, total).rows) == [(2, 3)]

    changed = tmp_path_factory.mktemp("changed")
    write_package(changed, resource, names, bad=False, second="5")
    diff = diff_packages(read_package(root), read_package(changed))
    [table] = [t for t in diff.to_dict()["tables"] if t["name"] == resource]
    assert diff.bump == "patch", table
    for render in RENDERERS.values():
        assert render(diff)
