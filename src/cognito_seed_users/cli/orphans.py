"""``orphans``: ledger owners whose stack is gone, or whose stack no longer has that logical id
or that physical id (a cleanup Delete CloudFormation ignored, e.g. after a skipped resource on
a rollback). Such an owner keeps its claims forever and blocks the original's restore; release
it with ``release``.

The decision (``verdict``) is pure; the reads are ``DescribeStacks`` (once per stack) and
``DescribeStackResource`` (once per owner whose stack exists). It fails closed: any answer
other than "this does not exist" (access denied, throttling, an unreachable endpoint) stops the
command with exit status 1, because a guess would report live owners as orphans.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from user_attributes.aws_clients import error_code
from user_attributes.identity import parse_physical_id
from user_attributes.model import OwnerOrigin, Target

from .errors import CliError
from .output import Report, TableData, document
from .owners import in_stack, stack_name_of
from .reads import Reader

_GONE_STATUSES: Final = frozenset({"DELETE_COMPLETE"})
"""A deleted stack stays describable by its unique stack id, in ``DELETE_COMPLETE`` (CloudFormation
API reference, DescribeStacks, StackName: "Deleted stacks: You must specify the unique stack
ID"); owner records hold that id, so a deleted stack is seen as such, not as an error."""


@dataclass(frozen=True)
class StackState:
    exists: bool
    status: str = ""


@dataclass(frozen=True)
class ResourceState:
    exists: bool
    physical_id: str = ""
    status: str = ""


def verdict(origin: OwnerOrigin, stack: StackState | None, resource: ResourceState | None) -> str:
    """``ok``, ``untraceable`` (a record older than origins) or why the owner is an orphan."""
    if not origin.stack_id or not origin.logical_resource_id:
        return "untraceable"
    if stack is None or not stack.exists or stack.status in _GONE_STATUSES:
        return "orphan: the stack is gone"
    if resource is None or not resource.exists or resource.status in _GONE_STATUSES:
        return "orphan: the stack has no such logical id"
    if origin.physical_id and not same_physical_id(origin.physical_id, resource.physical_id):
        return "orphan: the stack's resource has another physical id"
    return "ok"


def same_physical_id(recorded: str, current: str) -> bool:
    """Our ids compare by what they name (an older prefix, ``cua1t``, names the same owner)."""
    ours, theirs = parse_physical_id(recorded), parse_physical_id(current)
    if ours is not None and theirs is not None:
        return ours == theirs
    return recorded == current


class CloudFormationReader:
    """``DescribeStacks`` and ``DescribeStackResource``; "does not exist" is an answer, any other
    failure is a ``CliError`` (fail closed)."""

    def __init__(self, client: Any) -> None:  # noqa: ANN401 - no CloudFormation stubs installed
        self._client = client
        self._stacks: dict[str, StackState] = {}

    def stack(self, stack_id: str) -> StackState:
        if stack_id not in self._stacks:
            try:
                stacks = self._client.describe_stacks(StackName=stack_id)["Stacks"]
                status = str(stacks[0].get("StackStatus", "")) if stacks else ""
                self._stacks[stack_id] = StackState(bool(stacks), status)
            except ClientError as error:
                if not _does_not_exist(error):
                    raise _unreadable("DescribeStacks", error_code(error)) from None
                self._stacks[stack_id] = StackState(False)
            except BotoCoreError as error:
                raise _unreadable("DescribeStacks", type(error).__name__) from None
        return self._stacks[stack_id]

    def resource(self, stack_id: str, logical_id: str) -> ResourceState:
        try:
            detail = self._client.describe_stack_resource(
                StackName=stack_id, LogicalResourceId=logical_id
            )["StackResourceDetail"]
        except ClientError as error:
            if not _does_not_exist(error):
                raise _unreadable("DescribeStackResource", error_code(error)) from None
            return ResourceState(False)
        except BotoCoreError as error:
            raise _unreadable("DescribeStackResource", type(error).__name__) from None
        return ResourceState(
            True, str(detail.get("PhysicalResourceId", "")), str(detail.get("ResourceStatus", ""))
        )


def _does_not_exist(error: ClientError) -> bool:
    # CloudFormation answers ValidationError "Stack with id X does not exist" and "Resource X
    # does not exist for stack Y"; every other ValidationError is a real failure.
    message = str(error.response.get("Error", {}).get("Message", ""))
    return error_code(error) == "ValidationError" and "does not exist" in message


def _unreadable(action: str, code: str) -> CliError:
    return CliError(
        f"CloudFormation {action} failed: {code}; cannot tell orphans from live owners, so "
        "none are reported"
    )


def run(
    args: argparse.Namespace,
    reader: Reader,
    cloudformation: Callable[[], CloudFormationReader],
) -> tuple[Report, bool]:
    targets = reader.partitions()
    ledgers = reader.ledgers(targets)
    owners: list[tuple[Target, str, OwnerOrigin]] = [
        (target, owner, record.origin)
        for target, ledger in zip(targets, ledgers, strict=True)
        for owner, record in sorted(ledger.owners.items())
        if args.stack is None or in_stack(record.origin, args.stack)
    ]
    stacks = cloudformation() if owners else None
    results = []
    for target, owner, origin in owners:
        stack = resource = None
        if stacks is not None and origin.stack_id and origin.logical_resource_id:
            stack = stacks.stack(origin.stack_id)
            if stack.exists and stack.status not in _GONE_STATUSES:
                resource = stacks.resource(origin.stack_id, origin.logical_resource_id)
        results.append((target, owner, origin, verdict(origin, stack, resource)))
    orphaned = [result for result in results if result[3].startswith("orphan")]
    shown_results = results if args.all else [r for r in results if r[3] != "ok"]
    return (
        Report(
            document=document(
                "orphans",
                reveal=False,
                changes=bool(orphaned),
                owners=[
                    {
                        "owner_id": owner,
                        "user_pool_id": target.user_pool_id,
                        "username": target.username,
                        "stack_id": origin.stack_id,
                        "logical_id": origin.logical_resource_id,
                        "physical_id": origin.physical_id,
                        "verdict": result,
                        "orphan": result.startswith("orphan"),
                    }
                    for target, owner, origin, result in shown_results
                ],
            ),
            tables=[
                TableData(
                    "Ledger owners" if args.all else "Orphaned or untraceable owners",
                    ["Owner", "User", "Stack", "Logical id", "Verdict"],
                    [
                        [
                            owner,
                            f"{target.username} ({target.user_pool_id})",
                            stack_name_of(origin.stack_id) if origin.stack_id else "(unknown)",
                            origin.logical_resource_id or "(unknown)",
                            result,
                        ]
                        for target, owner, origin, result in shown_results
                    ],
                )
            ],
            summary=[
                f"{len(orphaned)} orphaned owner(s) of {len(results)}; release one with "
                "`seed-users release OWNER` (dry run), then `--apply`."
                if orphaned
                else f"No orphans among {len(results)} owner(s)."
            ],
        ),
        bool(orphaned),
    )
