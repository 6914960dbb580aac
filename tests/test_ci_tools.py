"""CI treats a site test that cannot run as a failure; locally it is a skip with a reason."""

from __future__ import annotations

import pytest

from tests.helpers import REQUIRE_SITE_TOOLS, ROOT, skip_without_site_tool


def test_missing_site_tool_skips_locally(monkeypatch):
    monkeypatch.delenv(REQUIRE_SITE_TOOLS, raising=False)
    with pytest.raises(pytest.skip.Exception, match="npm is missing"):
        skip_without_site_tool("npm is missing")


def test_missing_site_tool_fails_in_ci(monkeypatch):
    monkeypatch.setenv(REQUIRE_SITE_TOOLS, "1")
    with pytest.raises(pytest.fail.Exception, match="npm is missing.*required in CI"):
        skip_without_site_tool("npm is missing")


def test_ci_installs_the_site_tools_before_the_test_suite_and_requires_them():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = script.index("apt-get install")
    assert script.index(f"export {REQUIRE_SITE_TOOLS}=1") < script.index("make test\n")
    assert install < script.index("make release") < script.index("make test\n")
