"""`azkz citation` and the release step: CITATION.cff and dataset.jsonld."""

from __future__ import annotations

import csv
import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from azkz.cli import main
from azkz.release.citation import CFF_NAME, JSONLD_NAME, repository_metadata
from azkz.schema.package import read_package
from tests.helpers import ROOT, edit_descriptor, sha256_hex

CFF_SCHEMA = json.loads((ROOT / "tests" / "data" / "cff-1.2.0.schema.json").read_text("utf-8"))

# The shape search engines and catalogues expect of a schema.org Dataset (Google's
# Dataset structured data: name and description required, the rest recommended), with
# this project's promises on top: every download has a format, a size and a checksum.
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
DATASET_SHAPE = {
    "type": "object",
    "required": [
        "@context",
        "@type",
        "name",
        "description",
        "version",
        "license",
        "creator",
        "keywords",
        "temporalCoverage",
        "spatialCoverage",
        "distribution",
        "url",
    ],
    "properties": {
        "@context": {"const": "https://schema.org/"},
        "@type": {"const": "Dataset"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 50, "maxLength": 5000},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "license": {"type": "string", "format": "uri", "pattern": "^https://"},
        "url": {"type": "string", "pattern": "^https://"},
        "keywords": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "creator": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["@type", "name"],
                "properties": {"@type": {"enum": ["Person", "Organization"]}},
            },
        },
        "temporalCoverage": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}$"},
        "spatialCoverage": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["@type", "name"],
                "properties": {"@type": {"const": "Country"}},
            },
        },
        "distribution": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["@type", "name", "contentUrl", "encodingFormat", "contentSize"],
                "properties": {
                    "@type": {"const": "DataDownload"},
                    "contentUrl": {"type": "string", "pattern": "^https://"},
                    "encodingFormat": {"type": "string", "pattern": r"^[a-z]+/[\w.+-]+$"},
                    "contentSize": {"type": "string", "pattern": r"^\d+ B$"},
                    "sha256": SHA256,
                },
                "anyOf": [{"required": ["sha256"]}, {"required": ["description"]}],
            },
        },
    },
}


def validate_cff(text: str) -> None:
    jsonschema.Draft7Validator(CFF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        yaml.safe_load(text)
    )


def validate_dataset(doc: dict) -> None:
    jsonschema.Draft7Validator(DATASET_SHAPE).validate(doc)


def data_dates(package_root) -> list[str]:
    """Every date cell outside `sources`, read with the csv module (not DuckDB)."""
    package = read_package(package_root)
    dates = []
    for table in package.stored_tables:
        if table.name == "sources":
            continue
        date_fields = [f.name for f in table.fields if f.type == "date"]
        with open(package.file(table), newline="", encoding="utf-8") as fh:
            dates += [row[f] for row in csv.DictReader(fh) for f in date_fields if row[f]]
    return dates


# --- repository copies -----------------------------------------------------------------


def test_repository_copies_are_current():
    for name, text in repository_metadata(read_package(ROOT)).items():
        assert (ROOT / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run `azkz citation` and commit it"
        )


def test_repository_citation_cff_is_valid_cff_1_2_0():
    validate_cff((ROOT / CFF_NAME).read_text(encoding="utf-8"))


def test_without_author_roles_every_contributor_is_an_author(package_copy):
    """People are cited by their names' parts, organisations by their title."""
    contributors = [
        {"title": "Qazaq Data Lab", "roles": ["publisher"]},
        {"givenName": "Dana", "familyName": "Ömirbek", "roles": ["maintainer"]},
    ]
    edit_descriptor(package_copy, lambda descriptor: descriptor.update(contributors=contributors))
    cff_text = repository_metadata(read_package(package_copy))[CFF_NAME]
    validate_cff(cff_text)
    assert yaml.safe_load(cff_text)["authors"] == [
        {"name": "Qazaq Data Lab"},
        {"family-names": "Ömirbek", "given-names": "Dana"},
    ]


def test_repository_dataset_jsonld_has_the_shape_and_true_checksums():
    doc = json.loads((ROOT / JSONLD_NAME).read_text(encoding="utf-8"))
    validate_dataset(doc)
    package = read_package(ROOT)
    expected = ["datapackage.json", *(t.path for t in package.stored_tables)]
    assert [d["name"] for d in doc["distribution"]] == expected
    for download in doc["distribution"]:
        path = ROOT / download["name"]
        assert download["sha256"] == sha256_hex(path)
        assert download["contentSize"] == f"{path.stat().st_size} B"
        assert download["contentUrl"].endswith(f"/raw/main/{download['name']}")


def test_temporal_coverage_spans_the_data_dates(package_copy):
    doc = json.loads(repository_metadata(read_package(package_copy))[JSONLD_NAME])
    dates = data_dates(package_copy)
    assert doc["temporalCoverage"] == f"{min(dates)}/{max(dates)}"


def test_descriptor_is_the_one_source_of_truth(package_copy):
    contributors = [
        {
            "title": "Aygün Məmmədova",
            "givenName": "Aygün",
            "familyName": "Məmmədova",
            "email": "a@example.org",
            "roles": ["author"],
        },
        {"title": "Reviewer", "roles": ["contributor"]},
    ]
    edit_descriptor(
        package_copy,
        lambda descriptor: descriptor.update(
            title="A new title", version="2.3.4", keywords=["Caspian"], contributors=contributors
        ),
    )
    files = repository_metadata(read_package(package_copy))
    validate_cff(files[CFF_NAME])
    cff = yaml.safe_load(files[CFF_NAME])
    assert (cff["title"], cff["version"], cff["keywords"]) == ("A new title", "2.3.4", ["Caspian"])
    assert cff["authors"] == [
        {"family-names": "Məmmədova", "given-names": "Aygün", "email": "a@example.org"}
    ]
    doc = json.loads(files[JSONLD_NAME])
    validate_dataset(doc)
    assert (doc["name"], doc["version"]) == ("A new title", "2.3.4")
    assert doc["creator"] == [
        {
            "@type": "Person",
            "givenName": "Aygün",
            "familyName": "Məmmədova",
            "name": "Aygün Məmmədova",
        }
    ]


def test_cli_check_catches_stale_files_then_writes_them(package_copy):
    runner = CliRunner()
    args = ["--package", str(package_copy)]
    stale = runner.invoke(main, ["citation", "--check", *args])
    assert stale.exit_code == 1
    assert f"stale: {package_copy / CFF_NAME}" in stale.output
    assert runner.invoke(main, ["citation", *args]).exit_code == 0
    assert runner.invoke(main, ["citation", "--check", *args]).exit_code == 0
    validate_cff((package_copy / CFF_NAME).read_text(encoding="utf-8"))


# --- release copies --------------------------------------------------------------------


@pytest.fixture(scope="module")
def release_dir(built_release):
    version = json.loads((built_release / "datapackage.json").read_text("utf-8"))["version"]
    return built_release / "dist" / version


def test_release_has_both_files_under_its_checksums(release_dir):
    listed = {
        line.split("  ", 1)[1]
        for line in (release_dir / "SHA256SUMS").read_text("utf-8").splitlines()
    }
    assert {CFF_NAME, JSONLD_NAME} <= listed


def test_release_citation_is_valid_and_equals_the_repository_one(release_dir, built_release):
    text = (release_dir / CFF_NAME).read_text(encoding="utf-8")
    validate_cff(text)
    assert text == repository_metadata(read_package(built_release))[CFF_NAME]


def test_release_dataset_lists_every_release_file_with_true_checksums(release_dir):
    doc = json.loads((release_dir / JSONLD_NAME).read_text(encoding="utf-8"))
    validate_dataset(doc)
    on_disk = sorted(
        p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file()
    )
    # Written after dataset.jsonld, or dataset.jsonld itself: cannot be listed in it.
    later = {JSONLD_NAME, "SHA256SUMS"} | {n for n in on_disk if n.endswith(".zip")}
    assert [d["name"] for d in doc["distribution"]] == [n for n in on_disk if n not in later]
    base = f"{doc['url']}/releases/download/v{doc['version']}/"
    for download in doc["distribution"]:
        path = release_dir / download["name"]
        assert download["contentUrl"] == base + path.name
        assert download["contentSize"] == f"{path.stat().st_size} B"
        if path.suffix == ".duckdb":  # not byte-reproducible: hash only in SHA256SUMS
            assert "sha256" not in download
        else:
            assert download["sha256"] == sha256_hex(path)


def latest_accessed(root) -> str:
    """The latest `accessed` date of the sources, read with the csv module."""
    with open(root / "data" / "sources.csv", newline="", encoding="utf-8") as fh:
        return max(row["accessed"] for row in csv.DictReader(fh) if row["accessed"])


def test_citation_date_is_the_latest_source_access_not_the_clock(package_copy):
    cff = yaml.safe_load(repository_metadata(read_package(package_copy))[CFF_NAME])
    assert str(cff["date-released"]) == latest_accessed(package_copy)
    path = package_copy / "data" / "sources.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns, rows = reader.fieldnames, list(reader)
    rows[0]["accessed"] = "2099-12-31"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    cff = yaml.safe_load(repository_metadata(read_package(package_copy))[CFF_NAME])
    assert str(cff["date-released"]) == "2099-12-31" == latest_accessed(package_copy)
