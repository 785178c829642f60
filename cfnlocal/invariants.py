"""DESIGN section 5's invariants 1-3, checked from outside: the ledger table and the live users.

The checker reads the ledger table with a consistent ``Scan`` (not through the handler's code)
and each user with ``AdminGetUser``, and compares them with the ``baseline``: for every user,
the value each attribute must return to when no owner claims it (the user's state before the
first claim, moved on by out-of-band edits of unclaimed attributes).

1. an attribute no claim covers equals its baseline value (absent if it had none);
2. a claimed attribute equals the value of the owner that applied last (only once the stack
   has settled: between a crash and CloudFormation's next event the ledger may own a value
   Cognito does not show yet);
3. every claim's original equals the baseline: no original lost or replaced by a seeded value;

plus the ledger's own consistency (each owner record lists exactly the claims naming it, as
one transaction writes both) and, once settled, that the ledger's owners are exactly the
resources CloudFormation knows (no stale owner that would be re-applied or block a restore).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ABSENT = None
"""An attribute's value when the user does not have it."""

UserKey = tuple[str, str]
"""(user pool id, canonical username)"""


@dataclass(frozen=True)
class ClaimItem:
    original: str | None
    owners: Mapping[str, tuple[str | None, int]]
    """owner id -> (declared value or ABSENT, claim version when it applied)"""
    version: int

    def latest_owner(self) -> str:
        return max(self.owners, key=lambda owner: (self.owners[owner][1], owner))


@dataclass
class LedgerSnapshot:
    claims: dict[UserKey, dict[str, ClaimItem]] = field(default_factory=dict)
    owners: dict[UserKey, dict[str, frozenset[str]]] = field(default_factory=dict)
    dead_requests: dict[UserKey, dict[str, frozenset[str]]] = field(default_factory=dict)
    items: int = 0

    def owner_ids(self) -> set[str]:
        return {owner for records in self.owners.values() for owner in records}


def read_ledger(dynamodb: Any, table: str) -> LedgerSnapshot:  # noqa: ANN401 - boto3 client
    """Every ledger item, by a paginated consistent ``Scan``."""
    snapshot = LedgerSnapshot()
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        for item in page.get("Items", []):
            snapshot.items += 1
            _, pool, username = item["pk"]["S"].split("#", 2)
            user = (pool, username)
            kind, _, key = item["sk"]["S"].partition("#")
            if kind == "CLAIM":
                snapshot.claims.setdefault(user, {})[key] = ClaimItem(
                    original=item["original"]["S"] if "original" in item else ABSENT,
                    owners={
                        owner: (
                            held["M"]["value"]["S"] if "value" in held["M"] else ABSENT,
                            int(held["M"]["at"]["N"]),
                        )
                        for owner, held in item["owners"]["M"].items()
                    },
                    version=int(item["version"]["N"]),
                )
            elif kind == "OWNER":
                snapshot.owners.setdefault(user, {})[key] = frozenset(
                    entry["S"] for entry in item["attributes"]["L"]
                )
            elif kind == "TOMBSTONE":
                snapshot.dead_requests.setdefault(user, {})[key] = frozenset(
                    item.get("request_ids", {}).get("SS", [])
                )
        if "LastEvaluatedKey" not in page:
            return snapshot
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def live_attributes(cognito: Any, user: UserKey) -> dict[str, str]:  # noqa: ANN401
    """The user's attributes without ``sub`` (immutable, never ours)."""
    response = cognito.admin_get_user(UserPoolId=user[0], Username=user[1])
    return {a["Name"]: a.get("Value", "") for a in response["UserAttributes"] if a["Name"] != "sub"}


class InvariantChecker:
    """Checks invariants 1-3 for ``baseline``'s users against one ledger table."""

    def __init__(
        self,
        cognito: Any,  # noqa: ANN401 - boto3 clients
        dynamodb: Any,  # noqa: ANN401
        table: str,
        baseline: Mapping[UserKey, Mapping[str, str]],
    ) -> None:
        self.cognito = cognito
        self.dynamodb = dynamodb
        self.table = table
        self.baseline: dict[UserKey, dict[str, str]] = {u: dict(a) for u, a in baseline.items()}
        self.checks = 0

    def problems(
        self,
        *,
        settled: bool,
        known_owners: Iterable[str] | None = None,
        drifted: Mapping[tuple[UserKey, str], int] | None = None,
    ) -> list[str]:
        """Every broken invariant, described without attribute values.

        ``drifted``: (user, attribute) -> claim version at the time of an out-of-band edit of a
        claimed attribute; invariant 2 is not asked of it until that claim changes.
        """
        self.checks += 1
        ledger = read_ledger(self.dynamodb, self.table)
        problems: list[str] = []
        for user, baseline in self.baseline.items():
            live = live_attributes(self.cognito, user)
            claims = ledger.claims.get(user, {})
            problems += _attribute_problems(
                user, baseline, live, claims, settled=settled, drifted=drifted or {}
            )
            problems += _record_problems(user, claims, ledger.owners.get(user, {}))
        pools = {pool for pool, _ in self.baseline}
        for user in set(ledger.claims) | set(ledger.owners):
            if user[0] in pools and user not in self.baseline:
                problems.append(f"ledger: claims for a user nobody declared ({user[1]})")
        if settled and known_owners is not None:
            in_ledger = {
                owner
                for user, records in ledger.owners.items()
                if user[0] in pools
                for owner in records
            }
            problems += _owner_set_problems(in_ledger, set(known_owners))
        return problems

    def restored_problems(self) -> list[str]:
        """Every user equals its baseline exactly, and the ledger holds no claim or owner."""
        ledger = read_ledger(self.dynamodb, self.table)
        problems = []
        for user, baseline in self.baseline.items():
            live = live_attributes(self.cognito, user)
            if live != baseline:
                changed = sorted(
                    n for n in set(live) | set(baseline) if live.get(n) != baseline.get(n)
                )
                problems.append(f"{user[1]} not restored: {changed}")
            if ledger.claims.get(user) or ledger.owners.get(user):
                problems.append(f"{user[1]}: the ledger still holds claims or owners")
        return problems


def _attribute_problems(
    user: UserKey,
    baseline: Mapping[str, str],
    live: Mapping[str, str],
    claims: Mapping[str, ClaimItem],
    *,
    settled: bool,
    drifted: Mapping[tuple[UserKey, str], int],
) -> list[str]:
    problems: list[str] = []
    who = user[1]
    for name in sorted(set(baseline) | set(live) | set(claims)):
        claim = claims.get(name)
        if claim is None:
            if live.get(name) != baseline.get(name):
                problems.append(
                    f"invariant 1: {who}.{name} is unclaimed but differs from its original "
                    f"({_shape(live.get(name))} vs {_shape(baseline.get(name))})"
                )
            continue
        if claim.original != baseline.get(name):
            problems.append(
                f"invariant 3: {who}.{name}: the ledger's original {_shape(claim.original)} "
                f"is not the user's original {_shape(baseline.get(name))}"
            )
        if not claim.owners:
            problems.append(f"ledger: {who}.{name} is a claim without owners")
            continue
        if settled and drifted.get((user, name)) != claim.version:
            latest = claim.owners[claim.latest_owner()][0]
            if live.get(name) != latest:
                problems.append(
                    f"invariant 2: {who}.{name} does not show its latest owner's value "
                    f"({_shape(live.get(name))} vs {_shape(latest)}, "
                    f"{len(claim.owners)} owner(s))"
                )
    return problems


def _record_problems(
    user: UserKey, claims: Mapping[str, ClaimItem], records: Mapping[str, frozenset[str]]
) -> list[str]:
    named: dict[str, set[str]] = {}
    for name, claim in claims.items():
        for owner in claim.owners:
            named.setdefault(owner, set()).add(name)
    return [
        f"ledger: {user[1]}: owner {owner[:8]}'s record does not match its claims"
        for owner in sorted(set(named) | set(records))
        if frozenset(named.get(owner, ())) != records.get(owner)
    ]


def _owner_set_problems(in_ledger: set[str], known: set[str]) -> list[str]:
    problems = []
    stale = in_ledger - known
    missing = known - in_ledger
    if stale:
        problems.append(
            f"ledger: {len(stale)} owner(s) CloudFormation no longer knows "
            f"({sorted(o[:8] for o in stale)})"
        )
    if missing:
        problems.append(
            f"ledger: {len(missing)} resource(s) CloudFormation holds have no owner record "
            f"({sorted(o[:8] for o in missing)})"
        )
    return problems


def _shape(value: str | None) -> str:
    """Test data only (synthetic values): shown to make a failure readable."""
    return "absent" if value is None else repr(value)
