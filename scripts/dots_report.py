"""How the IMF DOTS rows fare in a built release: a Markdown report, every table queried.

Issue 21 asks, year by year, which row the `annual_series` precedence picked where the
IMF Direction of Trade Statistics rows (kind `international organisation`, rank 4)
compete with news reports (rank 5) or official pages (ranks 1–2), by how much the
competitors differ, and every year where another full-year figure and the DOTS figure
differ by more than 5%. Each table is the output of `azkz query --db <release>.duckdb
--format markdown`, and its SQL is printed under it, so a reader can run it again.

    .venv/bin/azkz build --out /tmp/dots-dist
    .venv/bin/python scripts/dots_report.py /tmp/dots-dist/0.2.0/*.duckdb [--out report.md]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

AZKZ = Path(sys.executable).with_name("azkz")
# Full-calendar-year rows with their source's kind (what `annual_series` lets compete).
FULL_YEAR = """
    full_year AS (
        SELECT i.*, year(i.period_start) AS year, s.kind
        FROM indicators i JOIN sources s USING (source_id)
        WHERE i.period_start = make_date(year(i.period_start), 1, 1)
          AND i.period_end = make_date(year(i.period_start), 12, 31)
    )"""

SECTIONS = [
    (
        "Where a DOTS row competes in `annual_series`",
        "Every group (indicator, reporter, direction, year) in which a DOTS row and another "
        "eligible row compete: each candidate, whether it won, the step of the precedence that "
        "decided, and its difference from the DOTS figure.",
        f"""
WITH {FULL_YEAR},
groups AS (
    SELECT indicator, reporter, from_country, to_country, year FROM full_year
    WHERE exclude_from_series IS NULL GROUP BY ALL
    HAVING count(*) > 1 AND bool_or(source_id LIKE 'imf-dots-%')
)
SELECT c.year, c.indicator, c.reporter, c.from_country || '→' || c.to_country AS direction,
       c.source_id, c.kind, c.value, c.qualifier, c.period_basis,
       a.source_id = c.source_id AS won, a.rule,
       round(100 * (c.value - d.value) / d.value, 2) AS pct_vs_dots
FROM full_year c
JOIN groups USING (indicator, reporter, from_country, to_country, year)
JOIN annual_series a USING (indicator, reporter, from_country, to_country, year)
JOIN full_year d USING (indicator, reporter, from_country, to_country, year)
WHERE c.exclude_from_series IS NULL AND d.source_id LIKE 'imf-dots-%'
ORDER BY c.year, c.indicator, c.reporter, won DESC, c.source_id""",
    ),
    (
        "The series year by year, 1992–2020 (bilateral exports and imports)",
        "Which row `annual_series` holds for each reporter and flow, how many candidates "
        "competed and how far apart they were (max − min, in % of min).",
        """
SELECT year, reporter, indicator, from_country || '→' || to_country AS direction, value,
       qualifier, source_id, rule, candidates,
       round(100 * (max_value - min_value) / min_value, 2) AS spread_pct
FROM annual_series
WHERE indicator IN ('exports', 'imports') AND year BETWEEN 1992 AND 2020
  AND 'WLD' NOT IN (from_country, to_country)
ORDER BY year, reporter, indicator""",
    ),
    (
        "Other full-year figures against the DOTS figure (all years, more than 5% flagged)",
        "Each full-year exports, imports or turnover figure of another source for 1992–2020, "
        "beside the DOTS figure of the same reporter (turnover: the reporter's DOTS exports + "
        "imports). A figure whose reporter is not stated is set beside both reporters' DOTS "
        "figures. `excluded` = kept out of the series by the curator, with a reason.",
        f"""
WITH {FULL_YEAR},
dots AS (
    SELECT reporter, year, indicator, from_country, to_country, value FROM full_year
    WHERE source_id LIKE 'imf-dots-%' AND 'WLD' NOT IN (from_country, to_country)
),
dots_turnover AS (
    SELECT reporter, year, 'trade_turnover' AS indicator, 'AZE' AS from_country,
           'KAZ' AS to_country, sum(value) AS value
    FROM dots GROUP BY reporter, year HAVING count(*) = 2
),
dots_all AS (SELECT * FROM dots UNION ALL SELECT * FROM dots_turnover)
SELECT o.year, o.indicator, coalesce(o.reporter, '(not stated)') AS reporter,
       d.reporter AS dots_reporter, o.from_country || '→' || o.to_country AS direction,
       o.value AS figure, o.qualifier, o.period_basis, o.source_id, o.kind,
       round(d.value, 4) AS dots_value, round(100 * (o.value - d.value) / d.value, 1) AS pct_diff,
       abs(o.value - d.value) / d.value > 0.05 AS over_5pct,
       o.exclude_from_series IS NOT NULL AS excluded
FROM full_year o
JOIN dots_all d ON d.year = o.year AND d.indicator = o.indicator
 AND d.from_country = o.from_country AND d.to_country = o.to_country
 AND (o.reporter IS NULL OR o.reporter = d.reporter)
WHERE o.source_id NOT LIKE 'imf-dots-%'
ORDER BY o.year, o.indicator, o.source_id, d.reporter""",
    ),
]


def query(db: Path, sql: str) -> str:
    result = subprocess.run(
        [str(AZKZ), "query", "--db", str(db), "--format", "markdown", sql],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"error: azkz query failed on {db}: {result.stderr.strip()}")
    return result.stdout.strip()


def report(db: Path, sections=SECTIONS) -> str:
    lines = [f"Queried from `{db}` with `azkz query --db … --format markdown`.", ""]
    for title, explanation, sql in sections:
        lines += [f"### {title}", "", explanation, "", query(db, sql), ""]
        lines += ["<details><summary>SQL</summary>", "", "```sql", sql.strip(), "```", ""]
        lines += ["</details>", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="a release's .duckdb file")
    parser.add_argument("--out", type=Path, help="write the report here (default: stdout)")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"error: {args.db}: no such file", file=sys.stderr)
        return 1
    text = report(args.db)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
