"""Which ledger owners belong to a stack: decided from the owner record's origin.

An owner id hashes (StackId, LogicalResourceId, UserPoolId, Username), and a StackId holds a
UUID CloudFormation assigns at creation, so a plan made before (or without asking) CloudFormation
cannot compute it. Instead it matches the origin every owner record keeps: the owner belongs
to stack ``S`` when its StackId names ``S`` (``arn:...:stack/S/<uuid>``) or one of ``S``'s
nested stacks (CloudFormation names a nested stack after its root, its logical id and a random
suffix, ``S-<logical id>-<suffix>``, as the User Guide's "Continue rolling back an update"
shows for ``ResourcesToSkip``; CDK's nested stack logical ids contain ``NestedStack``), and the
declaration is the one with the
owner's LogicalResourceId (``user_logical_id`` for seed-file users, the same in the stack and
in any shard). ``--stack-id`` narrows the top-level match to that exact stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from user_attributes.model import OwnerOrigin, OwnerRecord


def stack_name_of(stack_id: str) -> str:
    """The stack name a StackId (ARN) holds; anything else is taken as a name already."""
    match = re.fullmatch(r"arn:[^:]+:cloudformation:[^:]*:[^:]*:stack/([^/]+)/.*", stack_id)
    return match.group(1) if match else stack_id


def in_stack(origin: OwnerOrigin, stack_name: str, stack_id: str | None = None) -> bool:
    """Whether an owner from ``origin`` was made by stack ``stack_name`` or a nested stack of
    it (an origin without a StackId, from records older than origins, matches nothing)."""
    if not origin.stack_id:
        return False
    if stack_id is not None and origin.stack_id == stack_id:
        return True
    name = stack_name_of(origin.stack_id)
    if name == stack_name:
        return stack_id is None
    nested = rf"{re.escape(stack_name)}-[A-Za-z0-9]*NestedStack[A-Za-z0-9]*-[A-Za-z0-9]+"
    return re.fullmatch(nested, name) is not None


def stack_owners(
    owners: Mapping[str, OwnerRecord], stack_name: str, stack_id: str | None = None
) -> dict[str, OwnerRecord]:
    """The owners of one ledger partition that ``stack_name`` (or its nested stacks) made."""
    return {
        owner: record
        for owner, record in owners.items()
        if in_stack(record.origin, stack_name, stack_id)
    }
