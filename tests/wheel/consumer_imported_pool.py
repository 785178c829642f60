"""A consumer's CDK app: a pool imported by id, its seed users read from a seed file.

Written as a team would write it after ``pip install cognito-seed-users``; the wheel check
(``tests/wheel``) copies it, with ``consumer-seed-users.yaml``, to a temporary directory and
synthesizes it there.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from cognito_seed_users import (
    SeedUsers,
    deployment_region,
    load_seed_document,
    parse_seed_users,
)

SEED_FILE = Path(__file__).resolve().with_name("consumer-seed-users.yaml")


def build(app: cdk.App) -> cdk.Stack:
    """The consumer's stack: every user of the seed file, in the pool the file names."""
    source = SEED_FILE.name
    users = parse_seed_users(
        load_seed_document(SEED_FILE.read_text(encoding="utf-8"), source=source),
        source=source,
        user_pool_id_override=None,
    )
    region = deployment_region(users, source=source)
    stack = cdk.Stack(app, "ImportedPool", env=cdk.Environment(region=region))
    SeedUsers(stack, "SeedUsers", seed_users=users)
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
