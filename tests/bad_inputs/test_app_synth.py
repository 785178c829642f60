"""``app.py`` as ``cdk synth`` runs it: a bad file or context is one line on stderr, exit 1,
and injection-shaped values reach the template verbatim, as inert data.

Each row is a subprocess (CDK_CONTEXT_JSON, CDK_OUTDIR), like the CDK CLI's.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.support import run_app


def synth(tmp_path: Path, text: str | None, **context: object) -> subprocess.CompletedProcess[str]:
    if text is not None:
        path = tmp_path / "users.yaml"
        path.write_text(text, encoding="utf-8")
        context["seedUsersFile"] = str(path)
    return run_app(tmp_path / "cdk.out", context, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        pytest.param(
            "users:\n"
            "  - {username: a, userPoolId: eu-west-1_One1, attributes: {locale: en-GB}}\n"
            "  - {username: b, userPoolId: us-east-1_Two2, attributes: {locale: en-GB}}\n",
            {},
            "{file}: userPoolId: the pools are in eu-west-1, us-east-1; a stack deploys to one "
            "region, so use one file per region",
            id="pools-in-two-regions",
        ),
        pytest.param(
            None,
            {"userPoolId": 42},
            "context userPoolId: must be a string",
            id="context-pool-a-number",
        ),
        pytest.param(
            # An emptied file deploys to its pool's region: without a pool there is none.
            "users: []\n",
            {},
            "{file}: userPoolId: required with an empty users list, at the top level or as "
            "context userPoolId (its region is the stack's)",
            id="emptied-without-pool",
        ),
        pytest.param(
            # DEFECT: the username is echoed raw, so stderr gets two lines, the second forged.
            'userPoolId: eu-west-1_A1\nusers: [{username: "ci-bot\\nERROR forged", '
            "attributes: {locale: en-GB}}]\n",
            {},
            "{file}: users[0] ('ci-bot\\nERROR forged'): Username: must be 1 to 128 characters "
            "without spaces or control characters",
            id="newline-in-username",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_1(
    tmp_path: Path, text: str | None, context: dict[str, Any], message: str
) -> None:
    result = synth(tmp_path, text, **context)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == message.format(file=tmp_path / "users.yaml") + "\n"
    assert not (tmp_path / "cdk.out" / "manifest.json").exists()


INERT = {
    "nickname": "'; DROP TABLE users; --",
    "custom:tenant_id": "${AWS::AccountId}",
    "profile": "<script>alert(1)</script>",
    "name": "Robert\u202e\u2066 Tables",
}


def test_injection_shaped_values_reach_the_template_verbatim(tmp_path: Path) -> None:
    attributes = "".join(f"      {name}: {json.dumps(value)}\n" for name, value in INERT.items())
    text = "userPoolId: eu-west-1_A1\nusers:\n  - username: ci-bot\n    attributes:\n" + attributes

    result = synth(tmp_path, text)

    assert result.returncode == 0, result.stderr
    resources = [
        resource
        for template in (tmp_path / "cdk.out").glob("*.template.json")
        for resource in json.loads(template.read_text(encoding="utf-8"))["Resources"].values()
        if resource["Type"] == "Custom::CognitoUserAttributes"
    ]
    [declared] = [resource["Properties"]["UserAttributes"] for resource in resources]
    # Plain strings, not Fn::Sub or any other intrinsic: CloudFormation passes them unchanged.
    assert {item["Name"]: item["Value"] for item in declared} == INERT
