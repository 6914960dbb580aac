"""A fixed sample of the differential fuzz cases (tests/differential.py): on each generated
package `azkz validate` gives Frictionless's verdict and its set of (row, field, code).

The sample is the first `SAMPLE` seeds; the benchmark (scripts/bench_fuzz.py,
benchmarks/fuzz.md) runs thousands.  A seed names a case of this version of the
generator only, so each disagreement the fuzzing found is kept as a conformance package
(tests/conformance/, compared with both tools by tests/test_conformance.py).
"""

from __future__ import annotations

import pytest

from tests.differential import Outcome, compare, generate, record_lines

SAMPLE = 40


@pytest.mark.parametrize("seed", range(SAMPLE))
def test_azkz_and_frictionless_agree(seed):
    outcome = compare(generate(seed))
    assert outcome.agree, outcome.describe()


def test_the_generator_is_deterministic():
    assert generate(1234) == generate(1234)
    assert generate(1234) != generate(1235)


def test_the_sample_covers_every_type_and_mutation():
    cases = [generate(seed) for seed in range(SAMPLE)]
    types = {
        f["type"] for c in cases for r in c.descriptor["resources"] for f in r["schema"]["fields"]
    }
    mutations = {m.split("-")[0] for c in cases for m in c.mutations}
    assert len(types) >= 14, types
    assert {"extra", "stray", "missing", "blank", "quoted", "encoding", "duplicate"} <= mutations


def test_rows_are_mapped_to_physical_lines():
    text = 'a,b\n"x\ny",1\n\n"p",q\n'
    assert record_lines(text) == {1: 1, 2: 2, 3: 4, 4: 5}


def test_a_disagreement_is_reported():
    outcome = Outcome(generate(3), False, False, {("t", 2, None, "extra-cell")}, set())
    assert not outcome.agree and "extra-cell" in outcome.describe()
