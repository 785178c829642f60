"""Property-based tests: the invariants of DESIGN.md section 5 over random event sequences.

A pure model stands in for Cognito (a dict of live attributes) and for the ledger (the
``UserLedger`` each plan's ``ledger_after`` produces). Up to four owners declare, change and
release values over a small attribute alphabet, interleaved with out-of-band edits of the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hypothesis import example, given, settings
from hypothesis import strategies as st
from user_attributes.model import ABSENT, OnDelete, UserLedger, Value

from tests.core.simulation import live_value_of_latest, owners_of, records_of, step, value_of

ALPHABET = ("custom:a", "custom:b", "nickname", "email", "email_verified")
OWNERS = ("o1", "o2", "o3", "o4")
SETTINGS = settings(max_examples=200, deadline=None)


def live_values(name: str) -> st.SearchStrategy[str]:
    if name == "email_verified":
        return st.sampled_from(["true", "false"])
    return st.sampled_from(["v1", "v2", "v3"])


def desired_values(name: str) -> st.SearchStrategy[Value]:
    return live_values(name) | st.just(ABSENT)


LIVE = st.fixed_dictionaries({}, optional={name: live_values(name) for name in ALPHABET})
DESIRED = st.fixed_dictionaries({}, optional={name: desired_values(name) for name in ALPHABET})


@dataclass(frozen=True)
class Declare:
    owner: str
    desired: Mapping[str, Value]


@dataclass(frozen=True)
class Release:
    owner: str
    on_release: OnDelete = OnDelete.RESTORE


@dataclass(frozen=True)
class Edit:
    """Someone changes the user outside the stack (console, app, user self-service)."""

    name: str
    value: Value


OWNER = st.sampled_from(OWNERS)
DECLARE = st.builds(Declare, OWNER, DESIRED)
RELEASE_RESTORE = st.builds(Release, OWNER)
RELEASE_ANY = st.builds(Release, OWNER, st.sampled_from(list(OnDelete)))
EDIT = st.sampled_from(ALPHABET).flatmap(
    lambda name: st.builds(Edit, st.just(name), desired_values(name))
)


def edited(live: Mapping[str, str], edit: Edit) -> dict[str, str]:
    after = dict(live)
    if edit.value is ABSENT:
        after.pop(edit.name, None)
    else:
        after[edit.name] = edit.value
    return after


@dataclass
class Model:
    """What the test expects, tracked beside the system under test."""

    ledger: UserLedger
    live: dict[str, str]
    baseline: dict[str, str]
    """What each unclaimed attribute must show: the initial value, as later edited out of band
    while unclaimed, or as retained by a RETAIN release."""
    originals: dict[str, Value] = field(default_factory=dict)
    """attribute -> original of its claim, recorded when the claim appeared."""

    def run(self, owner: str, desired: Mapping[str, Value] | None, on_release: OnDelete) -> None:
        before = self.ledger
        _, self.ledger, self.live = step(before, self.live, owner, desired, on_release)
        for name in set(before.claims) - set(self.ledger.claims):
            self.originals.pop(name)
            if on_release is OnDelete.RETAIN:
                _set(self.baseline, name, value_of(self.live, name))
        for name in set(self.ledger.claims) - set(before.claims):
            self.originals[name] = self.ledger.claims[name].original

    def check_original_never_changes(self) -> None:
        """Invariant 3: a claim's original stays what it was when the claim appeared."""
        for name, claim in self.ledger.claims.items():
            assert claim.original == self.originals[name], name

    def check_ledger_is_consistent(self) -> None:
        assert all(claim.owners for claim in self.ledger.claims.values())
        assert records_of(self.ledger) == owners_of(self.ledger)

    def check_all(self) -> None:
        self.check_ledger_is_consistent()
        self.check_original_never_changes()
        for name in ALPHABET:
            claim = self.ledger.claims.get(name)
            if claim is None:
                # Invariant 1: no owners -> the original (the value before the first claim).
                assert value_of(self.live, name) == value_of(self.baseline, name), name
            else:
                # Invariant 2: owners -> the value of the owner that applied last.
                assert value_of(self.live, name) == live_value_of_latest(claim), name
                # A claim records the value its attribute had before it was first claimed.
                assert claim.original == value_of(self.baseline, name), name

    def release_everyone(self) -> None:
        for owner in OWNERS:
            self.run(owner, None, OnDelete.RESTORE)
            self.check_all()
        assert self.ledger == UserLedger()


def _set(live: dict[str, str], name: str, value: Value) -> None:
    if value is ABSENT:
        live.pop(name, None)
    else:
        live[name] = value


def new_model(initial: Mapping[str, str]) -> Model:
    return Model(ledger=UserLedger(), live=dict(initial), baseline=dict(initial))


# Always run: email_verified released (back to its original) in the same step as email
# changes; the flag that travels with the new email must be the restored one.
def flag_released_while_email_changes(test):  # a fresh example per test
    return example(
        initial={"email_verified": "false"},
        events=[
            Declare("o1", {"email": "v1", "email_verified": "true"}),
            Declare("o1", {"email": "v2"}),
        ],
    )(test)


@SETTINGS
@given(initial=LIVE, events=st.lists(DECLARE | RELEASE_RESTORE, max_size=12))
@flag_released_while_email_changes
def test_declare_and_restore_keep_invariants_and_end_at_initial_live(initial, events):
    model = new_model(initial)
    for event in events:
        if isinstance(event, Declare):
            model.run(event.owner, event.desired, OnDelete.RESTORE)
        else:
            model.run(event.owner, None, event.on_release)
        model.check_all()

    model.release_everyone()

    assert model.live == initial


@SETTINGS
@given(initial=LIVE, events=st.lists(DECLARE | RELEASE_ANY | EDIT, max_size=14))
@flag_released_while_email_changes
def test_invariants_hold_with_retain_and_edits_of_unclaimed_attributes(initial, events):
    model = new_model(initial)
    for event in events:
        if isinstance(event, Edit):
            if event.name in model.ledger.claims:
                continue  # this test's edits leave claimed attributes alone
            model.live = edited(model.live, event)
            _set(model.baseline, event.name, event.value)
        elif isinstance(event, Declare):
            model.run(event.owner, event.desired, OnDelete.RESTORE)
        else:
            model.run(event.owner, None, event.on_release)
        model.check_all()

    model.release_everyone()

    assert model.live == model.baseline


@SETTINGS
@given(initial=LIVE, events=st.lists(DECLARE | RELEASE_ANY | EDIT, max_size=14))
def test_originals_survive_edits_of_claimed_attributes(initial, events):
    model = new_model(initial)
    for event in events:
        if isinstance(event, Edit):
            model.live = edited(model.live, event)
        elif isinstance(event, Declare):
            model.run(event.owner, event.desired, OnDelete.RESTORE)
        else:
            model.run(event.owner, None, event.on_release)
        model.check_ledger_is_consistent()
        model.check_original_never_changes()
