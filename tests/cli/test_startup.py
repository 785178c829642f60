"""The operator tool and the seed-file parser run without the CDK.

Importing ``aws_cdk`` or ``constructs`` starts jsii's Node.js process: a pipeline that runs
``seed-users drift`` should need neither Node.js nor the second it costs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
import cognito_seed_users.cli
from cognito_seed_users import load_seed_document, parse_seed_file, SecretReference, OnDelete
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"aws_cdk", "constructs", "jsii"})
print(json.dumps(loaded))
"""


def test_the_operator_tool_and_the_seed_parser_load_no_cdk() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("name", ["CognitoUserAttributes", "SeedUsers", "Placement"])
def test_the_constructs_are_still_exported_from_the_package(name: str) -> None:
    import cognito_seed_users

    assert getattr(cognito_seed_users, name).__module__.startswith("cognito_seed_users.")


def test_an_unknown_name_is_an_attribute_error() -> None:
    import cognito_seed_users

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cognito_seed_users.Nope  # noqa: B018
