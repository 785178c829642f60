"""A consumer's CDK app: a user pool and the seed attributes of its users in the same stack.

Written as a team would write it after ``pip install cognito-seed-users``; the wheel check
(``tests/wheel``) copies it to a temporary directory and synthesizes it there.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito

from cognito_seed_users import CognitoUserAttributes, OnDelete


def build(app: cdk.App) -> cdk.Stack:
    """The consumer's stack: one pool, two users' declared attributes."""
    stack = cdk.Stack(app, "PoolInApp", env=cdk.Environment(region="eu-west-1"))
    pool = cognito.UserPool(
        stack,
        "Pool",
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_digits=True,
            require_lowercase=True,
            require_symbols=True,
            require_uppercase=True,
        ),
        mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        custom_attributes={"tenant_id": cognito.StringAttribute(mutable=True)},
    )
    CognitoUserAttributes(
        stack,
        "CiBot",
        user_pool=pool,
        username="ci-bot",
        attributes={"custom:tenant_id": "acme", "email": "ci-bot@example.com"},
    )
    CognitoUserAttributes(
        stack,
        "Reporting",
        user_pool=pool,
        username="reporting-service",
        attributes={"custom:tenant_id": "reporting", "nickname": None},
        on_delete=OnDelete.RETAIN,
    )
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
