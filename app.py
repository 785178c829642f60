"""The CDK app: the seed-users file, applied by one ``SeedUsersStack``.

Context ``seedUsersFile`` names another file (a relative path is relative to this directory,
not to the working directory); context ``userPoolId`` replaces the file's top-level pool.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import aws_cdk as cdk

from stacks import (
    SeedConfigError,
    SeedUser,
    SeedUsersStack,
    deployment_region,
    load_seed_document,
    parse_seed_users,
)

APP_DIR: Final = Path(__file__).resolve().parent
DEFAULT_SEED_USERS_FILE: Final = "seed-users.yaml"


def main() -> int:
    """Synthesize the app; a bad seed-users file is one line on stderr and exit status 1."""
    app = cdk.App()
    try:
        seed_users, region = _read_seed_users(app)
    except SeedConfigError as error:
        print(error, file=sys.stderr)
        return 1
    SeedUsersStack(
        app, "CognitoSeedUsers", seed_users=seed_users, env=cdk.Environment(region=region)
    )
    app.synth()
    return 0


def _read_seed_users(app: cdk.App) -> tuple[list[SeedUser], str]:
    """The declared users and the region their pools are in (the stack must deploy there)."""
    source = _context_string(app, "seedUsersFile") or DEFAULT_SEED_USERS_FILE
    try:
        text = (APP_DIR / source).read_text(encoding="utf-8")
    except OSError as error:
        raise SeedConfigError(f"{source}: cannot read the file: {error.strerror}") from None
    seed_users = parse_seed_users(
        load_seed_document(text, source=source),
        source=source,
        user_pool_id_override=_context_string(app, "userPoolId"),
    )
    return seed_users, deployment_region(seed_users, source=source)


def _context_string(app: cdk.App, key: str) -> str | None:
    value: object = app.node.try_get_context(key)
    if value is None or isinstance(value, str):
        return value
    raise SeedConfigError(f"context {key}: must be a string")


if __name__ == "__main__":
    sys.exit(main())
