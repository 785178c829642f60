"""app.py as `cdk synth` runs it: a subprocess with context in CDK_CONTEXT_JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infra.support import lint_problems, run_app


@pytest.fixture(scope="module")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's seed-users.yaml, synthesized from an unrelated working directory."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    result = run_app(outdir, {}, cwd=tmp_path_factory.mktemp("elsewhere"))
    assert result.returncode == 0, result.stderr
    return outdir


def test_example_file_synthesizes_from_any_working_directory(example_synth: Path) -> None:
    template = json.loads((example_synth / "CognitoSeedUsers.template.json").read_text())
    resources = template["Resources"].values()
    users = [r for r in resources if r["Type"] == "Custom::CognitoUserAttributes"]
    assert sorted(r["Properties"]["Username"] for r in users) == [
        "ci-bot",
        "e2e-tester",
        "reporting-service",
    ]


def test_stack_deploys_to_the_pools_region(example_synth: Path) -> None:
    manifest = json.loads((example_synth / "manifest.json").read_text())
    stack = manifest["artifacts"]["CognitoSeedUsers"]
    assert stack["environment"] == "aws://unknown-account/eu-west-1"


def test_example_template_passes_cfn_lint(example_synth: Path) -> None:
    template = json.loads((example_synth / "CognitoSeedUsers.template.json").read_text())
    assert lint_problems(template) == []


def test_user_pool_context_retargets_the_file(tmp_path: Path) -> None:
    result = run_app(tmp_path / "out", {"userPoolId": "eu-west-1_Staging7"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    template = (tmp_path / "out" / "CognitoSeedUsers.template.json").read_text()
    assert "eu-west-1_Staging7" in template
    assert "eu-west-1_Example123" not in template


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "userPoolId: eu-west-1_A1\nusers:\n  - username: ci-bot\n"
            "    attributes: {email_verified: true}\n",
            "users[0] (ci-bot): attributes.email_verified: must be a string "
            "(quote true/false, yes/no, on/off)",
            id="bad-field",
        ),
        pytest.param(None, "cannot read the file: No such file or directory", id="missing-file"),
    ],
)
def test_bad_file_exits_1_with_one_line_on_stderr(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "bad-users.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_app(tmp_path / "out", {"seedUsersFile": str(path)}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"{path}: {message}\n"
    assert result.stdout == ""
