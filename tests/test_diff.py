"""`azkz diff`: every kind of change, git refs, --check-version, the three formats."""

from __future__ import annotations

import copy
import csv
import json
import random
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from azkz.cli import main
from azkz.diff import (
    WORKTREE,
    DiffError,
    check_version,
    diff_packages,
    diff_specs,
    render_markdown,
    render_text,
    version_bump,
)
from azkz.release.changes import changelog_section, changes_document, curated_entry
from azkz.schema.package import read_package
from tests.helpers import copy_package, edit_descriptor

SOURCES = {
    "fields": [
        {"name": "source_id", "type": "string", "constraints": {"required": True}},
        {"name": "title", "type": "string"},
    ],
    "primaryKey": ["source_id"],
    "rows": [["s1", "First"], ["s2", "Second"]],
}
OBS = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True}},
        {"name": "country", "type": "string", "constraints": {"enum": ["AZE", "KAZ", "RUS"]}},
        {"name": "value", "type": "number", "constraints": {"minimum": 0}},
        {"name": "source_id", "type": "string"},
    ],
    "primaryKey": ["id"],
    "foreignKeys": [
        {"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}}
    ],
    "rows": [[1, "AZE", 1.5, "s1"], [2, "KAZ", 20, "s1"], [3, "AZE", 300, "s2"]],
}


def base_spec() -> dict:
    return {
        "version": "1.0.0",
        "tables": {"sources": copy.deepcopy(SOURCES), "obs": copy.deepcopy(OBS)},
    }


def write_package(root: Path, spec: dict) -> Path:
    """A small package: datapackage.json, schemas/<t>.json and data/<t>.csv per table."""
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    resources = []
    for name, table in spec["tables"].items():
        schema = {k: v for k, v in table.items() if k != "rows"}
        (root / "schemas" / f"{name}.json").write_text(json.dumps(schema, indent=1))
        with open(root / "data" / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([fd["name"] for fd in table["fields"]])
            writer.writerows(table["rows"])
        resources.append(
            {
                "name": name,
                "path": f"data/{name}.csv",
                "type": "table",
                "schema": f"schemas/{name}.json",
            }
        )
    descriptor = {"name": "fixture", "version": spec["version"], "resources": resources}
    (root / "datapackage.json").write_text(json.dumps(descriptor, indent=1))
    return root


def diff_of(tmp_path: Path, change, version: str = "1.0.0"):
    """Diff the base fixture against a copy modified by `change(spec)`."""
    new = base_spec()
    change(new)
    new["version"] = version
    old_pkg = read_package(write_package(tmp_path / "old", base_spec()))
    new_pkg = read_package(write_package(tmp_path / "new", new))
    return diff_packages(old_pkg, new_pkg)


def kinds(diff) -> dict[str, str]:
    return {c.kind: c.bump for c in diff.schema_changes}


def obs(diff):
    return next(t for t in diff.tables if t.name == "obs")


# --- each kind of change -------------------------------------------------------------


def test_identical_packages_need_no_bump(tmp_path):
    diff = diff_of(tmp_path, lambda s: None)
    assert diff.bump == "none"
    assert diff.schema_changes == []
    assert [(t.added, t.removed, t.changed) for t in diff.tables] == [(0, 0, 0), (0, 0, 0)]


def test_changed_value_is_a_patch_with_old_and_new_values(tmp_path):
    def change(s):
        s["tables"]["obs"]["rows"][0][2] = 2.5

    diff = diff_of(tmp_path, change)
    table = obs(diff)
    assert (table.added, table.removed, table.changed) == (0, 0, 1)
    assert table.field_changes == {"value": 1}
    assert table.matched_on == ["id"]
    assert table.examples["MOD"] == [
        {"op": "MOD", "key": {"id": 1}, "changes": {"value": [1.5, 2.5]}}
    ]
    assert diff.bump == "patch"


def test_added_and_removed_rows_are_a_patch(tmp_path):
    def change(s):
        rows = s["tables"]["obs"]["rows"]
        rows.pop(1)
        rows.append([4, "RUS", 7, "s2"])

    table = obs(diff := diff_of(tmp_path, change))
    assert (table.added, table.removed, table.changed) == (1, 1, 0)
    assert table.examples["ADD"][0]["row"] == {
        "id": 4,
        "country": "RUS",
        "value": 7.0,
        "source_id": "s2",
    }
    assert table.examples["DEL"][0]["key"] == {"id": 2}
    assert diff.bump == "patch"


def test_new_field_is_minor_and_values_compare_on_common_fields(tmp_path):
    def change(s):
        t = s["tables"]["obs"]
        t["fields"].append({"name": "note", "type": "string"})
        for row in t["rows"]:
            row.append("n")
        t["rows"][2][2] = 301

    diff = diff_of(tmp_path, change)
    assert kinds(diff) == {"field added": "minor"}
    assert diff.bump == "minor"
    assert obs(diff).changed == 1
    assert any("common fields" in n and "note" in n for n in obs(diff).notes)


def test_removed_field_is_major(tmp_path):
    def change(s):
        t = s["tables"]["obs"]
        del t["fields"][3]
        del t["foreignKeys"]
        for row in t["rows"]:
            del row[3]

    diff = diff_of(tmp_path, change)
    assert kinds(diff)["field removed"] == "major"
    assert diff.bump == "major"
    assert obs(diff).changed == 0


def test_renamed_field_is_called_out_and_values_still_compared(tmp_path):
    def change(s):
        t = s["tables"]["obs"]
        t["fields"][2]["name"] = "amount"
        t["rows"][1][2] = 21

    diff = diff_of(tmp_path, change)
    assert kinds(diff) == {"field renamed": "major"}
    assert "'value' renamed to 'amount'" in diff.schema_changes[0].detail
    assert obs(diff).field_changes == {"amount": 1}


def test_type_change_is_major_and_the_field_is_not_compared(tmp_path):
    def change(s):
        t = s["tables"]["obs"]
        t["fields"][2] = {"name": "value", "type": "string"}
        t["rows"][0][2] = "1.5 approx"

    diff = diff_of(tmp_path, change)
    assert kinds(diff)["type changed"] == "major"
    assert obs(diff).changed == 0
    assert any("type changed: value" in n for n in obs(diff).notes)


def test_renamed_table_is_detected_and_its_rows_compared(tmp_path):
    def change(s):
        s["tables"]["observations"] = s["tables"].pop("obs")
        s["tables"]["observations"]["rows"].pop()

    diff = diff_of(tmp_path, change)
    assert kinds(diff) == {"table renamed": "major"}
    table = next(t for t in diff.tables if t.name == "observations")
    assert (table.old_name, table.removed) == ("obs", 1)
    assert diff.added_tables == {} and diff.removed_tables == {}


def test_added_table_is_minor_and_removed_table_is_major(tmp_path):
    def add(s):
        s["tables"]["extra"] = {
            "fields": [{"name": "k", "type": "string"}],
            "primaryKey": ["k"],
            "rows": [["a"], ["b"]],
        }

    added = diff_of(tmp_path / "a", add)
    assert (added.bump, added.added_tables) == ("minor", {"extra": 2})

    def remove(s):
        del s["tables"]["obs"]

    removed = diff_of(tmp_path / "r", remove)
    assert (removed.bump, removed.removed_tables) == ("major", {"obs": 3})


def test_primary_key_change_is_major_and_rows_match_on_a_usable_key(tmp_path):
    def change(s):
        s["tables"]["obs"]["primaryKey"] = ["id", "country"]
        s["tables"]["obs"]["rows"][0][2] = 9

    diff = diff_of(tmp_path, change)
    assert kinds(diff) == {"primary key changed": "major"}
    assert obs(diff).matched_on == ["id", "country"]
    assert obs(diff).changed == 1


@pytest.mark.parametrize(
    "constraints, kind, bump",
    [
        ({"enum": ["AZE", "KAZ", "RUS"], "required": True}, "constraint tightened", "major"),
        ({"enum": ["AZE", "KAZ"]}, "constraint tightened", "major"),
        ({"enum": ["AZE", "KAZ", "RUS", "TUR"]}, "constraint loosened", "patch"),
        ({"enum": ["AZE", "KAZ", "RUS"], "pattern": "^[A-Z]{3}$"}, "constraint tightened", "major"),
        ({"enum": ["AZE", "KAZ", "RUS"], "unique": True}, "constraint tightened", "major"),
        ({}, "constraint loosened", "patch"),
    ],
)
def test_constraint_changes(tmp_path, constraints, kind, bump):
    def change(s):
        s["tables"]["obs"]["fields"][1]["constraints"] = constraints

    diff = diff_of(tmp_path, change)
    assert {c.kind for c in diff.schema_changes} == {kind}
    assert diff.bump == bump


def test_higher_minimum_and_new_foreign_key_are_major(tmp_path):
    def change(s):
        s["tables"]["obs"]["fields"][2]["constraints"] = {"minimum": 1}
        s["tables"]["sources"]["foreignKeys"] = [
            {"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["source_id"]}}
        ]

    diff = diff_of(tmp_path, change)
    assert kinds(diff) == {"constraint tightened": "major", "foreign key added": "major"}


@pytest.mark.parametrize(
    "prop, before, after",
    [
        ("unitField", None, "source_id"),
        ("description", "Value.", "The value as the source states it."),
        ("title", None, "Value"),
        ("examples", None, [1.5]),
        ("x-curator-note", "a", "b"),
    ],
)
def test_documentation_only_field_properties_are_patch(tmp_path, prop, before, after):
    def change(s):
        field = s["tables"]["obs"]["fields"][2]
        field.pop(prop, None) if after is None else field.update({prop: after})

    def base(s):
        if before is not None:
            s["tables"]["obs"]["fields"][2][prop] = before

    old_spec, new_spec = base_spec(), base_spec()
    base(old_spec), base(new_spec), change(new_spec)
    diff = diff_packages(
        read_package(write_package(tmp_path / "old", old_spec)),
        read_package(write_package(tmp_path / "new", new_spec)),
    )
    assert [(c.kind, c.bump, c.field) for c in diff.schema_changes] == [
        ("metadata changed", "patch", "value")
    ]
    assert diff.schema_changes[0].detail.startswith(prop)
    assert diff.bump == "patch"


@pytest.mark.parametrize(
    "prop, value",
    [
        ("format", "default"),
        ("bareNumber", False),
        ("decimalChar", ","),
    ],
)
def test_field_properties_that_change_reading_stay_major(tmp_path, prop, value):
    def change(s):
        s["tables"]["obs"]["fields"][2][prop] = value

    diff = diff_of(tmp_path, change)
    assert kinds(diff) == {"field property changed": "major"}


def test_schema_level_missing_values_change_is_major(tmp_path):
    def change(s):
        s["tables"]["obs"]["missingValues"] = ["", "n/a"]

    assert kinds(diff_of(tmp_path, change)) == {"missing values changed": "major"}


@pytest.mark.parametrize(
    "own, bump",
    [
        (["", "NA"], "major"),  # "NA" is now missing: such a cell reads differently
        ([], "major"),  # an empty cell is now an empty text (or a type error)
        ([""], "patch"),  # the schema's own default, declared on the field: nothing changes
    ],
)
def test_a_fields_own_missing_values_are_compared_with_what_it_inherited(tmp_path, own, bump):
    def change(s):
        s["tables"]["obs"]["fields"][1]["missingValues"] = own

    diff = diff_of(tmp_path, change)
    [change_] = diff.schema_changes
    assert (change_.table, change_.field, change_.bump) == ("obs", "country", bump)
    assert change_.detail.startswith(f'missingValues: [""] → {json.dumps(own)}')
    assert diff.bump == bump


def test_reordering_a_fields_missing_values_is_a_patch(tmp_path):
    old_spec, new_spec = base_spec(), base_spec()
    old_spec["tables"]["obs"]["fields"][2]["missingValues"] = ["-", "n/a"]
    new_spec["tables"]["obs"]["fields"][2]["missingValues"] = ["n/a", "-"]
    diff = diff_packages(
        read_package(write_package(tmp_path / "old", old_spec)),
        read_package(write_package(tmp_path / "new", new_spec)),
    )
    assert kinds(diff) == {"metadata changed": "patch"}
    assert diff.schema_changes[0].detail.endswith("(same values)")


def descriptor_diff(tmp_path: Path, edit, version: str = "1.0.0", base=lambda d: None):
    """Diff two identical data packages (descriptors set up by `base`), the new one's
    descriptor then changed by `edit`."""
    old = write_package(tmp_path / "old", base_spec())
    new = write_package(tmp_path / "new", base_spec())
    for root in (old, new):
        descriptor = json.loads((root / "datapackage.json").read_text())
        descriptor["licenses"] = [{"name": "CC-BY-4.0", "path": "https://x/by/4.0/"}]
        descriptor["version"] = "1.0.0"
        base(descriptor)
        if root == new:
            edit(descriptor)
            descriptor["version"] = version
        (root / "datapackage.json").write_text(json.dumps(descriptor))
    return diff_packages(read_package(old), read_package(new))


def relicense(d):
    d["licenses"] = [{"name": "ODbL-1.0", "path": "https://x/odbl/"}]


@pytest.mark.parametrize(
    "edit, where, kind, bump",
    [
        (relicense, "datapackage.json", "package licenses changed", "major"),
        (lambda d: d.update(name="renamed"), "datapackage.json", "package name changed", "major"),
        (lambda d: d.update(title="T"), "datapackage.json", "package metadata changed", "patch"),
        (
            lambda d: d.update(keywords=["oil"]),
            "datapackage.json",
            "package metadata changed",
            "patch",
        ),
        (
            lambda d: d["resources"][1].update(description="Observations."),
            "obs",
            "resource metadata changed",
            "patch",
        ),
        (
            lambda d: d["resources"][1].update(title="Observations"),
            "obs",
            "resource metadata changed",
            "patch",
        ),
        (
            lambda d: d["resources"][1].update(dialect={"delimiter": ";"}),
            "obs",
            "resource dialect changed",
            "major",
        ),
        (
            lambda d: d["resources"][0].update(encoding="latin-1"),
            "sources",
            "resource encoding changed",
            "major",
        ),
    ],
)
def test_descriptor_level_changes_are_reported(tmp_path, edit, where, kind, bump):
    diff = descriptor_diff(tmp_path, edit)
    assert [(c.table, c.kind, c.bump) for c in diff.schema_changes] == [(where, kind, bump)]
    assert diff.bump == bump


def test_contributor_details_show_in_full_when_names_are_unchanged(tmp_path):
    def edit(d):
        d["contributors"] = [{"title": "A", "role": "author"}]

    def base(d):
        d["contributors"] = [{"title": "A", "role": "editor"}]

    diff = descriptor_diff(tmp_path, edit, base=base)
    assert [c.detail for c in diff.schema_changes] == [
        'contributors: [{"title": "A", "role": "editor"}] → [{"title": "A", "role": "author"}]'
    ]


def test_license_change_fails_the_version_check_and_is_rendered(tmp_path):
    diff = descriptor_diff(tmp_path, relicense, version="1.0.1")
    ok, message = check_version(diff)
    assert not ok
    assert 'need a major bump (datapackage.json: licenses: "CC-BY-4.0" → "ODbL-1.0")' in message
    assert "bump version in datapackage.json to 2.0.0" in message
    assert "[major] datapackage.json: package licenses changed: licenses: " in render_text(diff)


def test_duplicate_key_falls_back_to_whole_rows_and_says_so(tmp_path):
    def change(s):
        s["tables"]["obs"]["rows"].append([3, "KAZ", 5, "s1"])

    table = obs(diff_of(tmp_path, change))
    assert table.matched_on == []
    assert (table.added, table.removed, table.changed) == (1, 0, 0)
    assert any("whole rows compared" in n for n in table.notes)


# --- exactness on a larger table -------------------------------------------------------


def test_counts_and_entries_are_exact_on_thousands_of_rows(tmp_path):
    rng = random.Random(6)
    old_rows = {
        i: [i, rng.choice(["AZE", "KAZ"]), rng.randint(0, 10_000) / 4, "s1"] for i in range(1, 4001)
    }
    new_rows = copy.deepcopy(old_rows)
    removed = set(rng.sample(sorted(old_rows), 57))
    for i in removed:
        del new_rows[i]
    changed_value = set(rng.sample(sorted(new_rows), 80))
    changed_country = set(rng.sample(sorted(new_rows), 40))
    for i in changed_value:
        new_rows[i][2] += 0.25
    for i in changed_country:
        new_rows[i][1] = "RUS"
    added = set(range(5000, 5033))
    for i in added:
        new_rows[i] = [i, "AZE", 1, "s2"]

    old_spec, new_spec = base_spec(), base_spec()
    old_spec["tables"]["obs"]["rows"] = list(old_rows.values())
    new_spec["tables"]["obs"]["rows"] = rng.sample(list(new_rows.values()), len(new_rows))
    old_pkg = read_package(write_package(tmp_path / "old", old_spec))
    new_pkg = read_package(write_package(tmp_path / "new", new_spec))

    table = obs(diff_packages(old_pkg, new_pkg, examples=3))
    assert (table.added, table.removed) == (len(added), len(removed))
    assert table.changed == len(changed_value | changed_country)
    assert table.field_changes == {"country": len(changed_country), "value": len(changed_value)}
    assert len(table.examples["MOD"]) == 3

    entries = changes_document(old_pkg, new_pkg)["tables"]["obs"]["entries"]
    by_op = {op: [e["key"]["id"] for e in entries if e["op"] == op] for op in ("ADD", "DEL", "MOD")}
    assert by_op == {
        "ADD": sorted(added),
        "DEL": sorted(removed),
        "MOD": sorted(changed_value | changed_country),
    }
    some = next(e for e in entries if e["op"] == "MOD" and e["key"]["id"] in changed_value)
    i = some["key"]["id"]
    assert some["changes"]["value"] == [old_rows[i][2], new_rows[i][2]]


# --- version check -------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, bump",
    [
        ("1.0.0", "1.0.0", "none"),
        ("1.0.0", "1.0.1", "patch"),
        ("1.0.9", "1.1.0", "minor"),
        ("1.4.2", "2.0.0", "major"),
        ("1.1.0", "1.0.5", "downgrade"),
    ],
)
def test_version_bump(old, new, bump):
    assert version_bump(old, new) == bump


def add_field(s):
    s["tables"]["obs"]["fields"].append({"name": "note", "type": "string"})
    for row in s["tables"]["obs"]["rows"]:
        row.append("")


def change_value(s):
    s["tables"]["obs"]["rows"][0][2] = 99


@pytest.mark.parametrize(
    "change, version, ok, words",
    [
        (change_value, "1.0.0", False, "not bumped, but the changes need a patch bump"),
        (change_value, "1.0.1", True, "enough for these changes (they need patch)"),
        (add_field, "1.0.1", False, "needs a minor bump"),
        (add_field, "1.1.0", True, "minor bump, enough for these changes (they need minor)"),
        (lambda s: None, "1.0.0", True, "no data or schema changes"),
        (change_value, "0.9.0", False, "backwards"),
    ],
)
def test_check_version(tmp_path, change, version, ok, words):
    verdict, message = check_version(diff_of(tmp_path, change, version))
    assert verdict is ok
    assert words.replace("needs", "need") in message


def test_check_version_names_the_reason_and_the_version_to_use(tmp_path):
    _, message = check_version(diff_of(tmp_path, add_field, "1.0.1"))
    assert "obs.note: field 'note' added" in message
    assert "1.1.0" in message


# --- CLI: paths, git refs, formats, errors ------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(main, ["diff", *args])


def two_packages(tmp_path: Path, change, version: str) -> tuple[str, str]:
    new = base_spec()
    change(new)
    new["version"] = version
    old = write_package(tmp_path / "old", base_spec())
    return str(old), str(write_package(tmp_path / "new", new) / "datapackage.json")


def test_cli_formats(tmp_path):
    old, new = two_packages(tmp_path, change_value, "1.0.1")
    text = run(old, new)
    assert text.exit_code == 0
    assert "Required version bump: patch" in text.output
    assert "~ id=1: value: 1.5 → 99.0" in text.output

    data = json.loads(run(old, new, "--format", "json").output)
    assert data["bump"] == "patch"
    assert [t["changed"] for t in data["tables"]] == [0, 1]

    markdown = run(old, new, "--format", "markdown").output.splitlines()
    table_start = markdown.index("| table | old rows | new rows | added | removed | changed |")
    assert table_start < markdown.index(
        "<details><summary>obs: 0 added, 0 removed, 1 changed</summary>"
    )
    assert "| obs | 3 | 3 | 0 | 0 | 1 |" in markdown


def test_cli_check_version_exit_codes(tmp_path):
    old, new = two_packages(tmp_path / "a", change_value, "1.0.0")
    failed = run("--check-version", old, new)
    assert failed.exit_code == 1
    assert "bump version in datapackage.json to 1.0.1" in failed.output

    old, new = two_packages(tmp_path / "b", change_value, "1.0.1")
    assert run("--check-version", old, new).exit_code == 0


def test_examples_are_capped_but_counts_exact(tmp_path):
    def change(s):
        for row in s["tables"]["obs"]["rows"]:
            row[2] += 1

    old, new = two_packages(tmp_path, change, "1.0.1")
    out = run(old, new, "--examples", "1").output
    assert "~ … and 2 more" in out
    assert ["obs", "3", "3", "0", "0", "3"] in [line.split() for line in out.splitlines()]


@pytest.mark.parametrize(
    "args, message",
    [
        (["no-such-ref", "WORKTREE"], "not an existing path, and . is not inside a git repo"),
        (["{tmp}", "{tmp}"], "directory has no datapackage.json"),
    ],
)
def test_cli_bad_inputs_exit_2_without_traceback(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_malformed_csv_is_refused_naming_side_file_line_and_validate(tmp_path):
    old, new = two_packages(tmp_path, change_value, "1.0.1")
    with open(Path(old) / "data" / "obs.csv", "a") as f:
        f.write('4,"AZE,1\n')
    result = run(old, new)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: old side ({old}) is not a valid package")
    assert "1 error (data/obs.csv:5 country source-error)" in result.output  # where it opened
    assert f"run `azkz validate {old}` for the full report" in result.output
    assert "Traceback" not in result.output


def test_cells_failing_their_type_are_refused_not_diffed_as_null(tmp_path):
    def change(s):
        s["tables"]["obs"]["rows"][1][2] = "twenty"

    old, new = two_packages(tmp_path, change, "1.0.1")
    result = run(old, new)
    assert result.exit_code == 2
    assert "error: new side (" in result.output
    assert "1 error (data/obs.csv:3 value type-error)" in result.output


def test_invalid_git_ref_points_to_a_checkout(repo):
    write_package(repo, {**base_spec(), "version": "1.1.1"})
    (repo / "data" / "obs.csv").write_text("id,country,value,source_id\nx,AZE,1,s1\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "bad")
    result = run("--repo", str(repo), "HEAD~1", "HEAD")
    assert result.exit_code == 2
    assert "new side (HEAD)" in result.output
    assert "data/obs.csv:2 id type-error" in result.output
    assert "run `azkz validate` on a checkout of HEAD" in result.output


def test_load_failure_names_the_file_and_line(tmp_path):
    """Without the validation gate (diff_packages), DuckDB's error still names the file."""
    old, new = two_packages(tmp_path, change_value, "1.0.1")
    with open(Path(new).parent / "data" / "obs.csv", "a") as f:
        f.write('4,"AZE,1\n')
    with pytest.raises(DiffError) as caught:
        diff_packages(read_package(old), read_package(new))
    message = str(caught.value)
    assert message.startswith("new side: cannot read data/obs.csv, line ")
    assert message.endswith("run `azkz validate` on that side for the full report")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with two commits: a value change, then nothing committed yet."""
    root = write_package(tmp_path / "repo", base_spec())
    git(root, "init", "-q")
    git(
        root,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "empty",
    )
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "v1")
    git(root, "tag", "v1.0.0")
    spec = base_spec()
    add_field(spec)
    spec["version"] = "1.1.0"
    write_package(root, spec)
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "v1.1")
    return root


def test_git_refs(repo):
    diff = diff_specs("v1.0.0", "HEAD", repo)
    assert (diff.old.version, diff.new.version, diff.bump) == ("1.0.0", "1.1.0", "minor")
    assert diff.old.label == "v1.0.0"
    assert run("--check-version", "--repo", str(repo), "v1.0.0", "HEAD").exit_code == 0


def test_worktree_differs_from_head_and_is_never_touched(repo):
    csv_path = repo / "data" / "obs.csv"
    csv_path.write_text(csv_path.read_text().replace("300", "301"))
    before = (csv_path.read_text(), git(repo, "status", "--porcelain"))
    diff = diff_specs("HEAD", "WORKTREE", repo)
    assert (obs(diff).changed, diff.bump) == (1, "patch")
    assert diff_specs("HEAD~1", "HEAD", repo).bump == "minor"
    assert (csv_path.read_text(), git(repo, "status", "--porcelain")) == before
    failed = run("--check-version", "--repo", str(repo), "HEAD", "WORKTREE")
    assert failed.exit_code == 1


def test_git_refs_and_worktree_from_a_subdirectory(repo, monkeypatch):
    monkeypatch.chdir(repo / "data")
    diff = diff_specs("v1.0.0", "HEAD", Path("."))
    assert (diff.old.version, diff.new.version, diff.bump) == ("1.0.0", "1.1.0", "minor")
    assert diff_specs("HEAD", WORKTREE, Path(".")).bump == "none"
    monkeypatch.chdir(repo.parent)
    result = run("--check-version", "--repo", str(repo / "schemas"), "HEAD~1", "HEAD")
    assert (result.exit_code, result.output) == (
        0,
        "ok: version 1.0.0 → 1.1.0 is a minor bump, enough for these changes (they need minor)\n",
    )


def test_package_in_a_subdirectory_of_the_repository(tmp_path):
    root = tmp_path / "repo"
    write_package(root / "pkg", base_spec())
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "v1")
    change_value(spec := base_spec())
    write_package(root / "pkg", {**spec, "version": "1.0.1"})
    diff = diff_specs("HEAD", WORKTREE, root / "pkg" / "data")
    assert (obs(diff).changed, diff.new.version) == (1, "1.0.1")
    with pytest.raises(DiffError, match="git ref 'HEAD' has no datapackage.json"):
        diff_specs("HEAD", WORKTREE, root)


def test_ref_without_package_is_a_clear_error(repo):
    unknown = run("--repo", str(repo), "v9", "HEAD")
    assert (unknown.exit_code, unknown.output) == (
        2,
        f"error: 'v9' is neither an existing path nor a git ref of the repository at {repo}\n",
    )
    with pytest.raises(DiffError, match="has no datapackage.json"):
        diff_specs("HEAD~2", "HEAD", repo)


# --- release artefacts ------------------------------------------------------------------


def test_changes_document_and_changelog_section(tmp_path):
    new_spec = base_spec()
    change_value(new_spec)
    add_field(new_spec)
    new_spec["version"] = "1.1.0"
    old_pkg = read_package(write_package(tmp_path / "old", base_spec()))
    new_pkg = read_package(write_package(tmp_path / "new", new_spec))
    doc = changes_document(old_pkg, new_pkg)
    assert (doc["previous_version"], doc["bump"]) == ("1.0.0", "minor")
    assert doc["tables"]["obs"]["entries"] == [
        {"op": "MOD", "key": {"id": 1}, "changes": {"value": [1.5, 99.0]}}
    ]
    section = changelog_section(doc, new_pkg.version, "2025-10-20", "### Added\n\n- Notes.")
    assert section.startswith(
        "## [1.1.0] - 2025-10-20\n\n### Added\n\n- Notes.\n\n"
        "### Data changes (generated)\n\nCompared with 1.0.0 "
        "(required version bump: minor)."
    )
    assert "- obs: field 'note' added." in section
    assert "- `obs`: 0 rows added, 0 removed, 1 changed." in section

    assert doc["rows"] == {"sources": 2, "obs": 3}
    first = changes_document(None, new_pkg)
    assert first.keys() == doc.keys()
    assert {k: first[k] for k in ("initial_release", "bump", "schema_changes", "tables")} == {
        "initial_release": True,
        "bump": None,
        "schema_changes": [],
        "tables": {},
    }
    assert first == changes_document(None, new_pkg)
    assert changelog_section(first, "1.1.0").endswith(
        "no earlier version to compare with. Tables:\n\n- `sources`: 2 rows\n- `obs`: 3 rows\n"
    )


def test_counts_of_one_are_singular(tmp_path):
    def change(s):
        s["tables"]["obs"]["rows"].append([4, "RUS", 7, "s2"])
        s["tables"]["one"] = {"fields": [{"name": "k", "type": "string"}], "rows": [["a"]]}

    old_pkg = read_package(write_package(tmp_path / "old", base_spec()))
    new_spec = base_spec()
    change(new_spec)
    new_pkg = read_package(write_package(tmp_path / "new", {**new_spec, "version": "1.1.0"}))
    section = changelog_section(changes_document(old_pkg, new_pkg), "1.1.0")
    assert "- Table `one` (1 row)." in section
    assert "- `obs`: 1 row added, 0 removed, 0 changed." in section
    first = changelog_section(changes_document(None, new_pkg), "1.1.0")
    assert "- `one`: 1 row\n" in first and "- `obs`: 4 rows\n" in first
    assert " 1 rows" not in section + first


def test_curated_entry_is_taken_from_keep_a_changelog():
    text = (
        "# Changelog\n\n## [Unreleased]\n\n- wip\n\n## [0.2.0] - 2026-01-01\n\n### Added\n"
        "\n- b\n\n## [0.1.0] - 2025-10-20\n\n- a\n\n[0.1.0]: https://x\n"
    )
    assert curated_entry(text, "0.2.0") == "### Added\n\n- b"
    assert curated_entry(text, "0.1.0") == "- a"
    assert curated_entry(text, "9.9.9") == ""


def test_real_package_value_change(package_copy):
    import csv as csvmod

    path = package_copy / "data" / "indicators.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csvmod.reader(f))
    header = rows[0]
    rows[1][header.index("note")] = "edited in a test"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csvmod.writer(f, lineterminator="\n").writerows(rows)
    diff = diff_packages(
        read_package(Path(__file__).resolve().parents[1]), read_package(package_copy)
    )
    changed = {t.name: (t.added, t.removed, t.changed) for t in diff.tables}
    assert changed["indicators"] == (0, 0, 1)
    assert sum(map(sum, changed.values())) == 1
    assert "changed fields: note (1)" in render_text(diff)
    rows = next(t.new_rows for t in diff.tables if t.name == "indicators")
    assert f"| indicators | {rows} | {rows} | 0 | 0 | 1 |" in render_markdown(diff)


def test_build_writes_changes_against_the_previous_release(built_release, package_copy):
    import shutil

    from azkz.diff import suggest_version
    from azkz.release.build import build_release

    dist = shutil.copytree(built_release / "dist", package_copy / "dist")
    first = read_package(built_release).version
    assert json.loads((dist / first / "changes.json").read_text())["initial_release"] is True

    second = suggest_version(first, "patch")
    edit_descriptor(package_copy, lambda descriptor: descriptor.update(version=second))
    path = package_copy / "data" / "indicators.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    removed = rows.pop(2)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)

    build_release(package_copy, dist)
    changes = json.loads((dist / second / "changes.json").read_text())
    assert (changes["previous_version"], changes["bump"]) == (first, "patch")
    entries = changes["tables"]["indicators"]["entries"]
    evidence = removed[rows[0].index("evidence")]
    assert [(e["op"], e["row"]["evidence"]) for e in entries] == [("DEL", evidence)]
    assert (
        "- `indicators`: 0 rows added, 1 removed, 0 changed."
        in (dist / second / "CHANGELOG.md").read_text()
    )
    assert "changes.json" in (dist / second / "SHA256SUMS").read_text()

    check = run("--check-version", str(dist / first), str(dist / second))
    assert (check.exit_code, check.output) == (
        0,
        f"ok: version {first} → {second} is a patch bump, "
        "enough for these changes (they need patch)\n",
    )


def test_repository_changelog_has_an_entry_for_the_current_version():
    root = Path(__file__).resolve().parents[1]
    version = read_package(root).version
    entry = curated_entry((root / "CHANGELOG.md").read_text(encoding="utf-8"), version)
    assert entry.startswith("### "), (
        f"CHANGELOG.md has no entry for version {version}: put the entry under "
        f"`## [{version}]` (create that heading above the previous version, moving anything "
        "under `## [Unreleased]` into it), with `### Added`/`### Changed`/... subsections"
    )


def test_contributing_tells_contributors_to_write_the_entry_the_release_publishes():
    """CONTRIBUTING's changelog step and the check above must describe the same process."""
    root = Path(__file__).resolve().parents[1]
    contributing = " ".join((root / "CONTRIBUTING.md").read_text(encoding="utf-8").split())
    assert "under the heading of that **new version**: add `## [<new version>]`" in contributing
    assert "move anything listed under `## [Unreleased]` into it" in contributing
    assert "a line under `## [Unreleased]`" not in contributing


def test_git_ref_of_a_package_with_a_derived_table_reads_its_schema(tmp_path):
    """A derived table's schema is committed but its data file is not (only a release has it):
    a git ref of this package exports the one and does not ask git for the other."""
    root = copy_package(tmp_path / "pkg")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "data")
    result = run("--repo", str(root), "HEAD", "WORKTREE")
    assert result.exit_code == 0, result.output
    assert "annual_series" in result.output
