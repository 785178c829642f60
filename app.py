"""The CDK app: the seed-users file, applied by one ``SeedUsersStack``.

Context ``seedUsersFile`` names another file (a relative path is relative to this directory,
not to the working directory); context ``userPoolId`` replaces the file's top-level pool;
``placement`` (``auto``, ``inline`` or ``nested``) chooses where the users' resources go;
``updateQuotaShare`` (0.04 to 1, default 0.4) bounds the share of Cognito's UserUpdate quota
the deploy uses; ``reapply`` (1 to 128 printable characters, e.g. a timestamp) re-applies every
declared value without changing a declaration: a value different from the last deploy's sends
every seed resource an Update, which rewrites the values that drifted. The same value sends
nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import aws_cdk as cdk

from cognito_seed_users import (
    Placement,
    SeedConfigError,
    SeedUser,
    load_seed_document,
    parse_seed_file,
)
from cognito_seed_users.cognito_user_attributes import pacing
from cognito_seed_users.runtime_rules import reapply_token_problem
from stacks import SeedUsersStack

APP_DIR: Final = Path(__file__).resolve().parent
DEFAULT_SEED_USERS_FILE: Final = "seed-users.yaml"


def main() -> int:
    """Synthesize the app; a bad seed-users file is one line on stderr and exit status 1."""
    app = cdk.App()
    try:
        seed_users, region = _read_seed_users(app)
        placement = _placement(app)
        share = _update_quota_share(app)
        reapply_token = _reapply_token(app)
        SeedUsersStack(
            app,
            "CognitoSeedUsers",
            seed_users=seed_users,
            placement=placement,
            update_quota_share=share,
            reapply_token=reapply_token,
            env=cdk.Environment(region=region),
        )
    except ValueError as error:  # SeedConfigError, or a declaration the constructs refuse
        print(error, file=sys.stderr)
        return 1
    app.synth()
    return 0


def _read_seed_users(app: cdk.App) -> tuple[list[SeedUser], str]:
    """The declared users and the region their pools are in (the stack must deploy there)."""
    source = _context_string(app, "seedUsersFile") or DEFAULT_SEED_USERS_FILE
    try:
        text = (APP_DIR / source).read_text(encoding="utf-8")
    except OSError as error:
        raise SeedConfigError(f"{source}: cannot read the file: {error.strerror}") from None
    seed_file = parse_seed_file(
        load_seed_document(text, source=source),
        source=source,
        user_pool_id_override=_context_string(app, "userPoolId"),
    )
    return seed_file.users, seed_file.region


def _placement(app: cdk.App) -> Placement:
    value = _context_string(app, "placement") or Placement.AUTO.value
    try:
        return Placement(value.lower())
    except ValueError:
        choices = ", ".join(member.value for member in Placement)
        raise SeedConfigError(f"context placement: must be one of {choices}") from None


def _update_quota_share(app: cdk.App) -> float | None:
    value: object = app.node.try_get_context("updateQuotaShare")
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("must be a number")
        share = float(value)
        pacing(share)
    except ValueError as error:
        raise SeedConfigError(f"context updateQuotaShare: {error}") from None
    return share


def _reapply_token(app: cdk.App) -> str | None:
    """Context ``reapply``: checked here so that a bad value names the context key, not the
    first user's resource."""
    token = _context_string(app, "reapply")
    if token is None:
        return None
    problem = reapply_token_problem(token)
    if problem is not None:
        raise SeedConfigError(f"context reapply: {problem}")
    return token


def _context_string(app: cdk.App, key: str) -> str | None:
    value: object = app.node.try_get_context(key)
    if value is None or isinstance(value, str):
        return value
    raise SeedConfigError(f"context {key}: must be a string")


if __name__ == "__main__":
    sys.exit(main())
