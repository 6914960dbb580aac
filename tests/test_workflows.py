"""The GitHub workflows and the pre-commit configuration, checked offline.

GitHub cannot be reached from the tests, so they check what can go wrong locally: the
YAML and its triggers and permissions, pinned actions, step order, that every shell
command is one the project documents (a `make` target of the Makefile or an `azkz`
command line that the real CLI parser accepts), and they run the workflows' shell and
JavaScript snippets against fakes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
import yaml

from azkz.cli import main
from tests.helpers import ROOT, skip_without_site_tool

WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
# Shell words the workflows may use besides `make` and `azkz`.
SHELL_TOOLS = {"echo", "cat", "python3", "sha256sum", "find", "sort", "uniq", "exit", "["}
# Used only by the release job to fetch the earlier releases from GitHub (a loop over tags).
RELEASE_TOOLS = {"git", "awk", "mkdir", "gh", "unzip", "mv", "for", "do", "done"}
SHELL_KEYWORDS = {"if", "then", "else", "elif", "fi", "!"}
SHELL_OPERATORS = {"|", "||", "&&", ";", "(", ")"}
REDIRECTIONS = {">", ">>", "<"}


def load_workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def step_index(workflow: dict, job: str, predicate) -> int:
    matches = [i for i, s in enumerate(steps(workflow, job)) if predicate(s)]
    assert len(matches) == 1, f"expected one matching step in {job}, found {len(matches)}"
    return matches[0]


def uses(action: str):
    return lambda step: step.get("uses", "").split("@")[0] == action


def runs(command: str):
    return lambda step: command in step.get("run", "")


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.M))


def shell_commands(script: str) -> list[list[str]]:
    """Each simple command of a run script as words, leading keywords/assignments dropped."""
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands, current, redirect = [], [], False
    for token in [*lexer, ";"]:
        if redirect:  # the file name after > or <: not a command
            redirect = False
        elif token in REDIRECTIONS:
            redirect = True
        elif token in SHELL_OPERATORS:
            if current:
                commands.append(current)
            current = []
        elif not current and (token in SHELL_KEYWORDS or re.match(r"^\w+=", token)):
            continue
        else:
            current.append(token)
    return commands


def script_lines(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.strip()]


def all_run_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            for step in job["steps"]:
                for line in script_lines(step.get("run", "")):
                    found += [(path.name, words) for words in shell_commands(line)]
    return found


def check_azkz_command(words: list[str]) -> None:
    """Parse an `azkz ...` line with the real click command (nothing is run)."""
    ctx = click.Context(main)
    command = main.get_command(ctx, words[1])
    assert command is not None, f"`azkz {words[1]}` is not an azkz command"
    command.make_context(words[1], list(words[2:]), parent=ctx)


# --- both workflows --------------------------------------------------------------------


def test_both_workflows_parse_and_name_jobs_that_run_on_ubuntu():
    for name in ("validate.yml", "release.yml"):
        workflow = load_workflow(name)
        assert workflow["name"]
        for job in workflow["jobs"].values():
            assert job["runs-on"] == "ubuntu-latest"


def test_every_action_is_pinned_to_a_version_or_commit():
    for path in WORKFLOWS.glob("*.yml"):
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert PINNED.match(step["uses"]), f"{path.name}: {step['uses']} is not pinned"


def test_default_token_is_read_only_and_jobs_ask_only_for_what_they_need():
    validate, release = load_workflow("validate.yml"), load_workflow("release.yml")
    assert validate["permissions"] == {"contents": "read"}
    assert release["permissions"] == {"contents": "read"}
    assert validate["jobs"]["validate"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }
    assert release["jobs"]["release"]["permissions"] == {"contents": "write"}
    assert release["jobs"]["pages"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_every_shell_command_is_documented_and_parses():
    """`make` targets exist in the Makefile; `azkz` lines parse with the real CLI."""
    targets = make_targets()
    commands = all_run_commands()
    assert commands, "no run: commands found"
    for workflow, words in commands:
        if words[0] == "make":
            assert set(words[1:]) <= targets, f"{workflow}: unknown make target in {words}"
        elif words[0] == "azkz":
            check_azkz_command(words)
        else:
            allowed = SHELL_TOOLS | (RELEASE_TOOLS if workflow == "release.yml" else set())
            assert words[0] in allowed, f"{workflow}: undocumented command {words}"


def test_command_checker_rejects_unknown_options_and_commands():
    with pytest.raises(click.UsageError):
        check_azkz_command(["azkz", "validate", "--format", "yaml"])
    with pytest.raises(AssertionError):
        check_azkz_command(["azkz", "publish"])
    assert shell_commands('v=$(python3 -c "x" | sort) && if [ -n "$v" ]; then exit 1; fi') == [
        ["python3", "-c", "x"],
        ["sort"],
        ["[", "-n", "$v", "]"],
        ["exit", "1"],
    ]
    assert shell_commands('azkz diff a b > out.md; cat out.md >> "$S"') == [
        ["azkz", "diff", "a", "b"],
        ["cat", "out.md"],
    ]


def test_python_is_set_up_with_pip_caching_before_anything_is_installed():
    for name, job in (("validate.yml", "validate"), ("release.yml", "release")):
        workflow = load_workflow(name)
        checkout = step_index(workflow, job, uses("actions/checkout"))
        setup = step_index(workflow, job, uses("actions/setup-python"))
        install = step_index(
            workflow, job, runs("make setup") if job == "validate" else runs("make release")
        )
        assert checkout < setup < install
        assert steps(workflow, job)[checkout]["with"]["fetch-depth"] == 0
        python = steps(workflow, job)[setup]["with"]
        assert (python["python-version"], python["cache"]) == ("3.11", "pip")


# --- validate.yml ----------------------------------------------------------------------


def test_validate_runs_on_pull_requests_and_pushes_to_main():
    on = triggers(load_workflow("validate.yml"))
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]


def test_validate_checks_in_order_and_keeps_going_after_a_failure():
    workflow = load_workflow("validate.yml")
    order = [
        step_index(workflow, "validate", runs("azkz validate --format github")),
        step_index(workflow, "validate", runs("make test")),
        step_index(workflow, "validate", runs("--format markdown")),
        step_index(workflow, "validate", uses("actions/github-script")),
        step_index(workflow, "validate", runs("azkz diff --check-version")),
    ]
    assert order == sorted(order)
    for i in order[1:]:
        assert "!cancelled()" in steps(workflow, "validate")[i]["if"]


def test_diff_goes_to_the_step_summary_and_compares_with_the_base_branch():
    workflow = load_workflow("validate.yml")
    step = steps(workflow, "validate")[step_index(workflow, "validate", runs("--format markdown"))]
    assert '"origin/$BASE_REF" HEAD' in step["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in step["run"]
    assert workflow["jobs"]["validate"]["env"]["BASE_REF"] == "${{ github.base_ref }}"


def _comment_script() -> str:
    workflow = load_workflow("validate.yml")
    i = step_index(workflow, "validate", uses("actions/github-script"))
    return steps(workflow, "validate")[i]["with"]["script"]


FAKE_GITHUB = """
const calls = [];
let comments = [{id: 1, user: {type: 'User'}, body: 'LGTM'}];
let nextId = 100;
const github = {
  paginate: async (fn, args) => comments,
  rest: {issues: {
    listComments: () => {},
    createComment: async (a) => { calls.push(['create', a.body]);
      comments.push({id: nextId++, user: {type: 'Bot'}, body: a.body}); },
    updateComment: async (a) => { calls.push(['update', a.comment_id, a.body]);
      comments.find((c) => c.id === a.comment_id).body = a.body; },
  }},
};
const context = {repo: {owner: 'o', repo: 'r'}, issue: {number: 7}};
const script = new (Object.getPrototypeOf(async function(){}).constructor)(
  'require', 'github', 'context', SCRIPT);
(async () => {
  const fs = require('fs');
  fs.writeFileSync('azkz-diff.md', 'first report');
  await script(require, github, context);
  fs.writeFileSync('azkz-diff.md', 'second report');
  await script(require, github, context);
  console.log(JSON.stringify({calls, comments}));
})();
"""


def test_pull_request_comment_is_created_once_then_updated(tmp_path):
    if shutil.which("node") is None:
        skip_without_site_tool("node is not installed (it comes with npm)")
    program = FAKE_GITHUB.replace("SCRIPT", json.dumps(_comment_script()))
    result = subprocess.run(
        ["node", "-e", program], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [c[0] for c in out["calls"]] == ["create", "update"]
    bots = [c for c in out["comments"] if c["user"]["type"] == "Bot"]
    assert len(bots) == 1
    assert bots[0]["body"] == "<!-- azkz-diff -->\nsecond report"


# --- release.yml -----------------------------------------------------------------------


def test_release_runs_on_version_tags_only():
    assert triggers(load_workflow("release.yml")) == {"push": {"tags": ["v*"]}}


def test_release_steps_build_verify_upload_then_publish_the_site():
    workflow = load_workflow("release.yml")
    order = [
        step_index(workflow, "release", lambda s: s.get("id") == "version"),
        step_index(workflow, "release", runs("make release")),
        step_index(workflow, "release", runs("sha256sum -c SHA256SUMS")),
        step_index(workflow, "release", uses("softprops/action-gh-release")),
        step_index(workflow, "release", runs("azkz site --release")),
        step_index(workflow, "release", uses("actions/upload-pages-artifact")),
    ]
    assert order == sorted(order)
    upload = steps(workflow, "release")[order[3]]["with"]
    assert upload["files"] == "dist/${{ steps.version.outputs.version }}/**"
    assert upload["fail_on_unmatched_files"] is True
    pages = workflow["jobs"]["pages"]
    assert pages["needs"] == "release"
    assert pages["environment"]["name"] == "github-pages"
    assert pages["steps"][0]["uses"].startswith("actions/deploy-pages@")


def _release_script(step_id_or_text: str) -> str:
    workflow = load_workflow("release.yml")
    i = step_index(
        workflow,
        "release",
        lambda s: s.get("id") == step_id_or_text or step_id_or_text in s.get("name", ""),
    )
    return steps(workflow, "release")[i]["run"]


def _run_bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
    )


def test_tag_check_accepts_the_descriptor_version_and_refuses_another(package_copy, tmp_path):
    script = _release_script("version")
    version = json.loads((package_copy / "datapackage.json").read_text())["version"]
    output = tmp_path / "github_output"
    ok = _run_bash(script, package_copy, GITHUB_REF_NAME=f"v{version}", GITHUB_OUTPUT=str(output))
    assert ok.returncode == 0, ok.stderr
    assert output.read_text() == f"version={version}\n"
    bad = _run_bash(script, package_copy, GITHUB_REF_NAME="v99.0.0", GITHUB_OUTPUT=str(output))
    assert bad.returncode == 1
    assert f"tag v99.0.0 does not match version {version}" in bad.stdout


def test_asset_name_check_refuses_two_files_with_one_base_name(tmp_path):
    script = _release_script("unique names")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x\n")
    assert _run_bash(script, tmp_path).returncode == 0
    (tmp_path / "a.csv").write_text("y\n")
    result = _run_bash(script, tmp_path)
    assert result.returncode == 1
    assert "a.csv" in result.stdout


def test_earlier_releases_are_fetched_into_dist_before_the_build(built_release, tmp_path):
    """Every release before the pushed tag lands in dist/<version>/: `azkz build` compares
    with the previous one, and the site's download/ (the releases URL) lists them all."""
    script = _release_script("earlier releases")
    version = json.loads((built_release / "datapackage.json").read_text())["version"]
    (zip_path,) = (built_release / "dist" / version).glob("*.zip")
    repo = tmp_path / "repo"
    repo.mkdir()
    for command in (
        "git init -q",
        "git -c user.email=a@b -c user.name=a commit -q --allow-empty -m one",
        "git tag v0.0.1",
        "git tag v0.0.2",
        "git tag v0.10.0",
        "git tag v0.2.0",
    ):
        subprocess.run(command.split(), cwd=repo, check=True)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # `gh release download TAG --pattern P --dir D`: the built zip, its folder renamed for TAG
    rename = (
        "import sys, zipfile; tag = sys.argv[1][1:]; src = zipfile.ZipFile(sys.argv[2]); "
        "out = zipfile.ZipFile(sys.argv[3] + '/release.zip', 'w'); "
        "[out.writestr(i.filename.replace('-' + sys.argv[4] + '/', '-' + tag + '/', 1), "
        "src.read(i)) for i in src.infolist()]; out.close()"
    )
    gh = fake_bin / "gh"
    gh.write_text(
        f'#!/bin/sh\necho "$@" >> "{tmp_path}/gh-args"\n'
        f'python3 -c "{rename}" "$3" "{zip_path}" "$7" "{version}"\n'
    )
    gh.chmod(0o755)
    env = {"PATH": f"{fake_bin}:{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path / "t")}
    result = _run_bash(script, repo, GITHUB_REF_NAME="v0.10.0", **env)
    assert result.returncode == 0, result.stderr
    calls = [line.split()[:3] for line in (tmp_path / "gh-args").read_text().splitlines()]
    assert calls == [["release", "download", tag] for tag in ("v0.0.1", "v0.0.2", "v0.2.0")]
    for earlier in ("0.0.1", "0.0.2", "0.2.0"):
        assert (repo / "dist" / earlier / "datapackage.json").is_file()
        assert (repo / "dist" / earlier / "SHA256SUMS").is_file()
    first = _run_bash(script, repo, GITHUB_REF_NAME="v0.0.1", **env)
    assert first.returncode == 0 and "first release" in first.stdout


def test_release_notes_and_assets_exist_in_a_real_build(built_release):
    """body_path and the checksum step point at files `make release` really writes."""
    version = json.loads((built_release / "datapackage.json").read_text())["version"]
    built_release = built_release / "dist" / version
    workflow = load_workflow("release.yml")
    upload = steps(workflow, "release")[
        step_index(workflow, "release", uses("softprops/action-gh-release"))
    ]["with"]
    notes = upload["body_path"].replace("dist/${{ steps.version.outputs.version }}/", "")
    assert (built_release / notes).is_file()
    names = [p.name for p in built_release.rglob("*") if p.is_file()]
    assert len(names) == len(set(names)), "release files must have unique base names"
    result = subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"],
        cwd=built_release,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- pre-commit ------------------------------------------------------------------------


LOCAL_HOOKS = ("azkz-fmt", "azkz-validate", "azkz-docs", "azkz-citation")


def precommit_hooks() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return {
        hook["id"]: {**hook, "rev": repo.get("rev")}
        for repo in config["repos"]
        for hook in repo["hooks"]
    }


def test_precommit_has_the_agreed_hooks():
    assert {
        "ruff-check",
        "ruff-format",
        "end-of-file-fixer",
        "trailing-whitespace",
        "mixed-line-ending",
        *LOCAL_HOOKS,
    } <= set(precommit_hooks())


def test_precommit_and_ci_check_the_csv_format():
    assert precommit_hooks()["azkz-fmt"]["entry"] == "azkz fmt --check"
    workflow = load_workflow("validate.yml")
    i = step_index(workflow, "validate", runs("azkz fmt --check"))
    assert "!cancelled()" in steps(workflow, "validate")[i]["if"]


def test_precommit_ruff_is_the_version_the_project_pins():
    from packaging.specifiers import SpecifierSet

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    spec = re.search(r'"ruff([<>=!~][^"]*)"', pyproject).group(1)
    rev = precommit_hooks()["ruff-check"]["rev"]
    assert rev.lstrip("v") in SpecifierSet(spec)


def test_trailing_whitespace_spares_csv_cells_but_not_code():
    pattern = re.compile(precommit_hooks()["trailing-whitespace"]["exclude"])
    assert pattern.search("data/indicators.csv")
    assert not pattern.search("src/azkz/cli/__init__.py")
    assert not pattern.search("schemas/indicators.json")


def test_local_hooks_run_on_package_files_only():
    for hook_id in LOCAL_HOOKS:
        hook = precommit_hooks()[hook_id]
        assert hook["language"] == "system"
        assert hook["pass_filenames"] is False
        pattern = re.compile(hook["files"])
        for path in ("data/visits.csv", "schemas/visits.json", "datapackage.json"):
            assert pattern.search(path), (hook_id, path)
        for path in ("src/azkz/cli/__init__.py", "README.md", "docs/datapackage.json.md"):
            assert not pattern.search(path), (hook_id, path)
        [words] = shell_commands(hook["entry"])
        assert words[0] == "azkz"
        check_azkz_command(words)
