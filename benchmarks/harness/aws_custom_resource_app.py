"""The same seed file as ``app.py``, applied the way ``AwsCustomResource`` can: one custom
resource and one IAM policy per user that call ``AdminUpdateUserAttributes`` on create and
update (it cannot remember, so cannot restore, previous values). For synth-time comparison.

Run as ``app.py`` is: ``CDK_OUTDIR`` and ``CDK_CONTEXT_JSON`` (``seedUsersFile``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml
from aws_cdk import custom_resources as cr


def build(app: cdk.App, config: Mapping[str, Any]) -> cdk.Stack:
    stack = cdk.Stack(app, "AwsCustomResourceSeedUsers", env=cdk.Environment(region="eu-west-1"))
    pool_id = config["userPoolId"]
    pool_arn = stack.format_arn(service="cognito-idp", resource="userpool", resource_name=pool_id)
    for index, user in enumerate(config["users"]):
        call = cr.AwsSdkCall(
            service="CognitoIdentityServiceProvider",
            action="adminUpdateUserAttributes",
            parameters={
                "UserPoolId": pool_id,
                "Username": user["username"],
                "UserAttributes": [
                    {"Name": name, "Value": value}
                    for name, value in sorted(user["attributes"].items())
                    if value is not None
                ],
            },
            physical_resource_id=cr.PhysicalResourceId.of(f"{pool_id}/{user['username']}"),
        )
        cr.AwsCustomResource(
            stack,
            f"User{index:05}",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[pool_arn]),
            install_latest_aws_sdk=False,
        )
    return stack


def main() -> int:
    context = json.loads(os.environ.get("CDK_CONTEXT_JSON", "{}"))
    config = yaml.safe_load(Path(context["seedUsersFile"]).read_text(encoding="utf-8"))
    app = cdk.App()
    build(app, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
