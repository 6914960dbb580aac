"""Differential fuzzing of `azkz validate` against `frictionless validate`.

`generate(seed)` builds one small data package from a seeded `random.Random`: one or two
tables over every Table Schema field type, with formats and constraints (numeric and date
bounds sometimes written as strings), sometimes a primary key, a unique field and a
foreign key to a parent table, then mutates the CSV text: extra cells (empty or not), a
stray comma inside a row, missing cells, quoted and multi-line cells, blank rows, a
declared encoding, broken keys.  `compare(case)` validates the package with both tools
in-process (azkz through its CLI entry point with `--format json`, frictionless through
`frictionless.validate`) and compares the verdicts and the sets of
(resource, line, field, code).

The same seed always gives the same package, so a disagreement is reproduced with
`scripts/bench_fuzz.py --seed N` and kept as a regression test by its seed.

How the two reports are put side by side:
- Frictionless numbers records (header = 1), azkz gives a record's first physical line;
  Frictionless's row numbers are mapped to physical lines through Python's `csv` (the
  reader Frictionless uses), so a multi-line cell counts its lines.
- Header errors have no row in Frictionless and line 1 in azkz: both become row `None`.
- Row errors (`blank-row`, `extra-cell`, `primary-key`, `foreign-key`) are compared
  without their field (Frictionless names none, or the empty name for an extra cell).
- An unusable descriptor or schema is one finding whatever its code (Frictionless has
  `field-error`, `schema-error`, `resource-error`, `package-error`; azkz `schema-error`),
  since neither tool reads the rows then.

What the generator never writes: the inputs of the differences docs/decisions.md keeps
deliberately ("Kept differences from Frictionless", "What `azkz validate` still refuses"
and the Table Schema differences listed there): custom properties, `exclusiveMinimum`
and `exclusiveMaximum`, `uniqueKeys`, unterminated quotes, non-default shapes such as
`2020-1-01`, `2020-1`, `PT`, `10:00:00Z` for a time or a space in a datetime, `NaN`,
`INF` and numbers past the double range (`1e400`), a date `format` of `any`, and a file
in another encoding than the one declared.  Two kept differences it does write are
set aside by name: a foreign key naming a field its parent lacks (here a `schema-error`
and nothing else, checked; there a `foreign-key` error on each row with a reference), and
where only the verdicts are compared,
Frictionless reporting label errors although line 1 is exactly the schema's field names
(Frictionless 5 then took a data row for the header: seen after an empty line followed
by a shorter record, and above a lone record wider than the header).  Everything else the
generator can write must give the same report.
"""

from __future__ import annotations

import csv
import io
import json
import random
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TYPES = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "time",
    "datetime",
    "year",
    "yearmonth",
    "duration",
    "geopoint",
    "geojson",
    "object",
    "array",
    "list",
    "any",
)
ROW_CODES = {"blank-row", "extra-cell", "primary-key", "foreign-key"}
DESCRIPTOR_CODES = {"package-error", "resource-error", "schema-error", "field-error"}
# Declared, because Frictionless otherwise guesses the delimiter from the first rows
# (`csv.Sniffer`) and can pick another character in a tiny file; azkz reads the default.
DIALECT = {"delimiter": ","}
ENCODINGS = ("utf-8", "latin-1", "cp1251", "cp1252", "utf-16")
TEXT = ["alpha", "Baku", "Қазақстан", "şəhər", "a,b", 'say "hi"', "two\nlines", " padded ", "x"]


# ----------------------------------------------------------------------------- values
def _valid_value(rng: random.Random, fld: dict) -> str:
    """A cell text the field's type and format accept (constraints aside)."""
    kind, fmt = fld["type"], fld.get("format", "default")
    if kind == "string":
        return {
            "email": lambda: rng.choice(["a@x.org", "first.last@example.com"]),
            "uri": lambda: rng.choice(["https://example.org/a", "http://x.kz/path?q=1"]),
            "uuid": lambda: rng.choice(
                ["2b1fcd3e-8cfb-4c4b-9d1a-0a6a1bd7b1e2", "c9bf9e57-1685-4c89-bafb-ff5af830be8a"]
            ),
        }.get(fmt, lambda: rng.choice(TEXT))()
    if kind == "integer":
        return str(rng.randint(-20, 2000))
    if kind == "number":
        return _number_text(rng, fld)
    if kind == "boolean":
        return rng.choice(fld.get("trueValues", ["true"]) + fld.get("falseValues", ["false"]))
    if kind == "date":
        y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return f"{d:02d}/{m:02d}/{y}" if fmt == "%d/%m/%Y" else f"{y}-{m:02d}-{d:02d}"
    if kind == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if kind == "datetime":
        return f"{rng.randint(1990, 2030)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:30:00"
    if kind == "year":
        return str(rng.randint(1900, 2100))
    if kind == "yearmonth":
        return f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}"
    if kind == "duration":
        return rng.choice(["P1Y", "P2M10D", "PT1H", "P1DT2H30M", "PT45S"])
    if kind == "geopoint":
        lon, lat = rng.choice([(49.8, 40.4), (71.4, 51.1), (-10, 0), (180, -90)])
        return {"array": f"[{lon}, {lat}]", "object": json.dumps({"lon": lon, "lat": lat})}.get(
            fmt, f"{lon},{lat}"
        )
    if kind == "geojson":
        return rng.choice(
            [
                '{"type": "Point", "coordinates": [49.8, 40.4]}',
                '{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}',
            ]
        )
    if kind == "object":
        return rng.choice(['{"a": 1}', '{"a": 1, "b": [2]}', "{}"])
    if kind == "array":
        return rng.choice(["[1, 2]", '["a"]', "[]", "[1, 2, 3]"])
    if kind == "list":
        item = fld.get("itemType", "string")
        items = {"integer": ["1", "2", "30"], "number": ["1.5", "2"], "boolean": ["true", "false"]}
        return fld.get("delimiter", ",").join(rng.sample(items.get(item, ["a", "b", "c"]), 2))
    return rng.choice(TEXT)  # any


def _number_text(rng: random.Random, fld: dict) -> str:
    whole, frac = rng.randint(-3000, 3000), rng.randint(0, 99)
    group = fld.get("groupChar")
    digits = f"{abs(whole):,}".replace(",", group) if group else str(abs(whole))
    text = f"{'-' if whole < 0 else ''}{digits}{fld.get('decimalChar', '.')}{frac:02d}"
    if fld.get("bareNumber") is False and rng.random() < 0.5:
        text = rng.choice(["$", "€ "]) + text + rng.choice(["", "%"])
    return text


BAD_VALUES = {
    "integer": ["1.5", "abc", "12x", "", "1e3"],
    "number": ["abc", "1.2.3", "--1"],
    "boolean": ["yes", "TRUE", "1", "maybe"],
    "date": ["2020-02-30", "2020/01/01", "20200101", "2020-13-01", "0000-01-01"],
    "time": ["25:00:00", "10:61:00", "noon", "10-00-00"],
    "datetime": ["2020-01-01", "2020-01-01T25:00:00", "yesterday"],
    "year": ["20a0", "1e3", "99999", "-"],
    "yearmonth": ["2020-13", "2020", "2020/05"],
    "duration": ["1Y", "P1X", "P-1Y", "hour"],
    "geopoint": ["200,0", "0,95", "1", "a,b", "[1]"],
    "geojson": ['{"type": "Foo"}', "[1, 2]", "{", '{"type": "Point"}'],
    "object": ["[1]", "{", "1", '"a"'],
    "array": ['{"a": 1}', "[1,", "1"],
    "list": [],
    "string": [],
    "any": [],
}
BAD_FORMATTED = {
    "email": ["not-an-email", "a@"],
    "uri": ["no scheme", "example.org"],
    "uuid": ["1234"],
}


def _cell(rng: random.Random, fld: dict, bad_rate: float) -> str:
    """A cell for `fld`: usually valid, sometimes empty, sometimes of the wrong type."""
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.08 + bad_rate:
        bad = BAD_VALUES[fld["type"]] + BAD_FORMATTED.get(fld.get("format", ""), [])
        if fld["type"] == "list" and fld.get("itemType") in ("integer", "number"):
            bad = ["1,x", "a"]
        if bad:
            return rng.choice(bad)
    return _valid_value(rng, fld)


# ----------------------------------------------------------------------------- schemas
def _field(rng: random.Random, name: str) -> dict:
    kind = rng.choice(TYPES)
    fld: dict[str, Any] = {"name": name, "type": kind}
    if kind == "string" and rng.random() < 0.3:
        fld["format"] = rng.choice(["email", "uri", "uuid"])
    elif kind == "number" and rng.random() < 0.4:
        fld.update(rng.choice([{"decimalChar": ","}, {"groupChar": " "}, {"bareNumber": False}]))
    elif kind == "boolean" and rng.random() < 0.3:
        fld.update(trueValues=["yes", "Y"], falseValues=["no", "N"])
    elif kind == "date" and rng.random() < 0.2:
        fld["format"] = "%d/%m/%Y"
    elif kind == "geopoint" and rng.random() < 0.4:
        fld["format"] = rng.choice(["array", "object"])
    elif kind == "list":
        fld["itemType"] = rng.choice(["string", "integer", "number", "boolean"])
        if rng.random() < 0.3:
            fld["delimiter"] = ";"
    constraints = _constraints(rng, fld)
    if constraints:
        fld["constraints"] = constraints
    return fld


BOUNDS = {
    "integer": ("0", "1000"),
    "number": ("-100.5", "100.5"),
    "date": ("2000-01-01", "2020-12-31"),
    "time": ("06:00:00", "18:00:00"),
    "datetime": ("2000-01-01T00:00:00", "2020-12-31T23:59:59"),
    "year": ("1950", "2050"),
    "yearmonth": ("2000-01", "2020-12"),
}
LENGTH_TYPES = ("string", "array", "object", "list")
ENUM_TYPES = ("string", "integer", "number", "boolean", "date", "year", "time", "yearmonth")


def _constraints(rng: random.Random, fld: dict) -> dict:
    kind, out = fld["type"], {}
    if rng.random() < 0.3:
        out["required"] = True
    if kind not in UNHASHABLE and rng.random() < 0.15:
        out["unique"] = True
    if kind in BOUNDS and rng.random() < 0.5:
        low, high = BOUNDS[kind]
        if fld.get("format") == "%d/%m/%Y":  # Frictionless reads a bound in the field's format
            low, high = "01/01/2000", "31/12/2020"
        if fld.get("decimalChar") == ",":
            low, high = low.replace(".", ","), high.replace(".", ",")
        for key, text in rng.sample([("minimum", low), ("maximum", high)], rng.randint(1, 2)):
            out[key] = (
                text
                if kind in ("date", "time", "datetime", "yearmonth") or rng.random() < 0.5
                else _number(kind, text)
            )
    if kind in LENGTH_TYPES and rng.random() < 0.3:
        out[rng.choice(["minLength", "maxLength"])] = rng.randint(1, 5)
    if kind == "string" and "format" not in fld and rng.random() < 0.2:
        out["pattern"] = rng.choice(["[a-zA-Z ]+", ".*a.*", "[^,]*"])
    if (
        kind in ENUM_TYPES
        and "format" not in fld
        and not fld.get("groupChar")
        and rng.random() < 0.2
    ):
        out["enum"] = sorted({_enum_entry(rng, fld) for _ in range(3)}, key=str)
    return out


def _number(kind: str, text: str) -> int | float:
    """A bound as a JSON number: years and integers as ints, the rest as floats."""
    return int(text) if kind in ("integer", "year") else float(text.replace(",", "."))


def _enum_entry(rng: random.Random, fld: dict) -> Any:
    text = _valid_value(rng, fld)
    if fld["type"] in ("integer", "year") and rng.random() < 0.5:
        return int(text)
    return text


# ----------------------------------------------------------------------------- packages
@dataclass
class Case:
    """One generated package: its descriptor, its files' bytes and what was done to them."""

    seed: int
    descriptor: dict
    files: dict[str, bytes]
    mutations: list[str] = field(default_factory=list)

    def write(self, root: Path) -> Path:
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "datapackage.json").write_text(
            json.dumps(self.descriptor, indent=1), encoding="utf-8"
        )
        for path, content in self.files.items():
            (root / path).write_bytes(content)
        return root

    @property
    def verdict_only(self) -> bool:
        """A foreign key naming a field its parent lacks: azkz refuses the descriptor
        (docs/decisions.md); Frictionless reports each row, or nothing when every
        reference is empty."""
        return "foreign-key-missing-field" in self.mutations

    @property
    def header_is_the_schema(self) -> bool:
        """Whether line 1 of `t` is exactly the schema's field names (no label error)."""
        text = self.files["data/t.csv"].decode(self.encoding("t")).lstrip("\ufeff")
        header = next(csv.reader(io.StringIO(text, newline="")), [])
        fields = self.descriptor["resources"][0]["schema"]["fields"]
        return header == [f["name"] for f in fields]

    def encoding(self, resource: str) -> str:
        found = next(r for r in self.descriptor["resources"] if r["name"] == resource)
        return found.get("encoding", "utf-8")

    def path(self, resource: str) -> str:
        return next(r["path"] for r in self.descriptor["resources"] if r["name"] == resource)


def generate(seed: int) -> Case:
    """The package for `seed`: a child table `t`, sometimes with a parent table `p`."""
    rng = random.Random(seed)
    fields = [_field(rng, name) for name in ["a", "b", "c", "d", "e"][: rng.randint(1, 4)]]
    schema: dict[str, Any] = {"fields": fields}
    rows = [
        [_cell(rng, f, bad_rate=rng.choice([0, 0.05, 0.2])) for f in fields]
        for _ in range(rng.randint(1, 8))
    ]
    mutations: list[str] = []
    resources = [{"name": "t", "path": "data/t.csv", "dialect": dict(DIALECT), "schema": schema}]
    files: dict[str, list[list[str]]] = {}
    if rng.random() < 0.25:
        _add_primary_key(rng, schema, rows, mutations)
    if rng.random() < 0.25:
        parent = _add_foreign_key(rng, schema, rows, mutations)
        resources.append(parent)
        files["data/p.csv"] = [["id"]] + [[v] for v in ["k1", "k2", "k3"]]
    if rng.random() < 0.2:
        schema["missingValues"] = rng.choice([["", "NA"], ["-"], ["", "n/a"]])
        mutations.append("missingValues")
        for row in rows:
            for i in range(len(row)):
                if rng.random() < 0.1:
                    row[i] = rng.choice(schema["missingValues"])
    files["data/t.csv"] = [[f["name"] for f in fields]] + rows
    encoded = {path: _render(rng, path, table, mutations) for path, table in files.items()}
    encoding = _choose_encoding(rng, encoded["data/t.csv"], mutations)
    if encoding:
        resources[0]["encoding"] = encoding
    blobs = {p: text.encode("utf-8") for p, text in encoded.items()}
    blobs["data/t.csv"] = encoded["data/t.csv"].encode(encoding or "utf-8")  # only `t` declares one
    return Case(seed, {"name": "fuzz", "resources": resources}, blobs, mutations)


UNHASHABLE = ("array", "object", "geojson", "list")  # Frictionless 5 fails on such keys


def _plain(fld: dict, kind: str) -> None:
    """Make `fld` a plain field of `kind`, without the former type's properties."""
    for key in ("format", "constraints", "itemType", "delimiter", "trueValues", "falseValues"):
        fld.pop(key, None)
    for key in ("decimalChar", "groupChar", "bareNumber"):
        fld.pop(key, None)
    fld["type"] = kind


def _add_primary_key(
    rng: random.Random, schema: dict, rows: list[list[str]], mutations: list[str]
) -> None:
    name = schema["fields"][0]["name"]
    if schema["fields"][0]["type"] in UNHASHABLE:
        _plain(schema["fields"][0], "integer")
    schema["primaryKey"] = [name]
    for i, row in enumerate(rows):  # distinct keys, unless mutated
        row[0] = (
            _valid_value(rng, schema["fields"][0])
            if schema["fields"][0]["type"] != "string"
            else f"key{i}"
        )
    if len(rows) > 1 and rng.random() < 0.5:
        rows[-1][0] = rows[0][0]
        mutations.append("duplicate-key")


def _add_foreign_key(
    rng: random.Random, schema: dict, rows: list[list[str]], mutations: list[str]
) -> dict:
    fld = rng.choice(schema["fields"])
    _plain(fld, "string")
    reference = "id" if rng.random() > 0.05 else "missing_field"
    schema["foreignKeys"] = [
        {"fields": [fld["name"]], "reference": {"resource": "p", "fields": [reference]}}
    ]
    column = schema["fields"].index(fld)
    for row in rows:
        row[column] = rng.choice(["k1", "k2", "k3", "", "k9" if rng.random() < 0.3 else "k1"])
    mutations.append("foreign-key" + ("-missing-field" if reference != "id" else ""))
    parent_schema = {"fields": [{"name": "id", "type": "string"}], "primaryKey": ["id"]}
    return {"name": "p", "path": "data/p.csv", "dialect": dict(DIALECT), "schema": parent_schema}


def _render(rng: random.Random, path: str, table: list[list[str]], mutations: list[str]) -> str:
    """The CSV text of `table`, then the file's mutations (only `t.csv` is mutated)."""
    buffer = io.StringIO()
    csv.writer(
        buffer,
        lineterminator="\n",
        quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    ).writerows(table)
    lines = buffer.getvalue().split("\n")[:-1]
    if path != "data/t.csv":
        return "\n".join(lines) + "\n"
    records = _split_records(lines)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        if len(records) < 2:
            break
        _mutate(rng, records, mutations)
    newline = "\r\n" if rng.random() < 0.15 else "\n"
    text = newline.join(line for record in records for line in record.split("\n"))
    return text + (newline if rng.random() < 0.9 else "")


def _split_records(lines: list[str]) -> list[str]:
    """Physical lines joined back into records (a quoted cell may hold a newline)."""
    records, pending = [], ""
    for line in lines:
        pending = f"{pending}\n{line}" if pending else line
        if pending.count('"') % 2 == 0:
            records.append(pending)
            pending = ""
    return records


def _mutate(rng: random.Random, records: list[str], mutations: list[str]) -> None:
    """One structural mutation of a data record (never the header)."""
    i = rng.randint(1, len(records) - 1)
    kind = rng.choice(
        [
            "extra-empty",
            "extra-cell",
            "stray-comma",
            "missing-cell",
            "blank-row",
            "blank-commas",
            "quoted-empty",
            "drop-row",
        ]
    )
    width = records[0].count(",") + 1
    if kind == "extra-empty":
        records[i] += ","
    elif kind == "extra-cell":
        records[i] += "," + rng.choice(["x", "1", '"q"'])
    elif kind == "stray-comma":
        cells = _cells(records[i])
        j = rng.randrange(len(cells))
        cells[j : j + 1] = [cells[j][:1] or "1", cells[j][1:] or "600"]
        records[i] = _join(cells)
    elif kind == "missing-cell" and width > 1:
        records[i] = _join(_cells(records[i])[:-1])
    elif kind == "blank-row":
        records.insert(i, "")
    elif kind == "blank-commas":
        records.insert(i, "," * (width - 1))
    elif kind == "quoted-empty":
        cells = _cells(records[i])
        cells[rng.randrange(len(cells))] = "\x00"  # a placeholder the writer leaves alone
        records[i] = _join(cells).replace("\x00", '""')
    elif kind == "drop-row" and len(records) > 2:
        del records[i]
    else:
        return
    mutations.append(kind)


def _cells(record: str) -> list[str]:
    return next(csv.reader([record]), [""]) or [""]


def _join(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()[:-1]


def _choose_encoding(rng: random.Random, text: str, mutations: list[str]) -> str | None:
    """A declared encoding the text can be written in (None: undeclared UTF-8)."""
    if rng.random() > 0.15:
        return None
    for encoding in rng.sample(ENCODINGS, len(ENCODINGS)):
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            continue
        mutations.append(f"encoding-{encoding}")
        return encoding
    return None


# ----------------------------------------------------------------------------- the two reports
Finding = tuple[str | None, int | None, str | None, str]  # resource, line, field, code


@dataclass
class Outcome:
    """Both tools' verdicts and findings for one case."""

    case: Case
    frictionless_valid: bool
    azkz_valid: bool
    frictionless: set[Finding]
    azkz: set[Finding]

    @property
    def agree(self) -> bool:
        if self.case.verdict_only:  # azkz refuses the descriptor, whatever the rows hold
            return self.azkz == {(None, None, None, "descriptor")}
        if self.frictionless_valid != self.azkz_valid:
            return False
        return self.misread_header or self.frictionless == self.azkz

    @property
    def misread_header(self) -> bool:
        """Frictionless 5 took a data row for the header: label errors although line 1 is
        the schema's names (after an empty line and a shorter record, or above a lone
        wider one)."""
        labels = any(f[3].endswith("-label") for f in self.frictionless)
        return labels and self.case.header_is_the_schema

    def describe(self) -> str:
        only_f = sorted(self.frictionless - self.azkz, key=str)
        only_a = sorted(self.azkz - self.frictionless, key=str)
        return (
            f"seed {self.case.seed} ({', '.join(self.case.mutations) or 'no mutation'}): "
            f"frictionless valid={self.frictionless_valid}, azkz valid={self.azkz_valid}; "
            f"only frictionless {only_f}; only azkz {only_a}"
        )


def record_lines(text: str) -> dict[int, int]:
    """Frictionless's row number (header = 1) -> the record's first physical line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, previous_end = {}, 0
    for number, _ in enumerate(reader, start=1):
        starts[number] = previous_end + 1
        previous_end = reader.line_num
    return starts


def normalise(resource: str | None, line: int | None, field_name: str | None, code: str) -> Finding:
    if code in DESCRIPTOR_CODES:
        return (None, None, None, "descriptor")
    if code.endswith("-label") or code.endswith("-header"):
        return (resource, None, field_name, code)
    return (resource, line, None if code in ROW_CODES else field_name, code)


def frictionless_report(case: Case, root: Path) -> tuple[bool, set[Finding]]:
    import frictionless

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = frictionless.validate(str(root / "datapackage.json"))
        except Exception as exc:  # Frictionless's own bug: the generator must avoid the input
            return False, {(None, None, None, f"frictionless-failure: {type(exc).__name__}: {exc}")}
    found = {normalise(None, None, None, e.type) for e in report.errors}
    for task in report.tasks:
        lines = _lines_of(case, root, task.name)
        for e in task.errors:
            row = getattr(e, "row_number", None)
            line = lines.get(row, row) if row is not None else None
            found.add(normalise(task.name, line, getattr(e, "field_name", None), e.type))
    return report.valid, found


def _lines_of(case: Case, root: Path, resource: str) -> dict[int, int]:
    try:
        raw = (root / case.path(resource)).read_bytes()
        return record_lines(raw.decode(case.encoding(resource)))
    except (StopIteration, OSError, UnicodeDecodeError, LookupError, csv.Error):
        return {}


def azkz_report(root: Path) -> tuple[bool, set[Finding]]:
    from click.testing import CliRunner

    from azkz.cli import main

    result = CliRunner().invoke(main, ["validate", str(root), "--format", "json"])
    try:
        report = json.loads(result.stdout)
    except ValueError:  # a crash: a disagreement whatever Frictionless says
        return False, {(None, None, None, f"azkz-failure: {result.output.strip()[:300]}")}
    found = {normalise(e["resource"], e["line"], e["field"], e["code"]) for e in report["errors"]}
    return report["valid"], found


def compare(case: Case) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="azkz-fuzz-") as scratch:
        root = case.write(Path(scratch))
        f_valid, f_found = frictionless_report(case, root)
        a_valid, a_found = azkz_report(root)
    return Outcome(case, f_valid, a_valid, f_found, a_found)
