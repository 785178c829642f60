"""The leak guard (``tests/leak_guard.py``) is not vacuous: planted leaks are caught.

Three levels: the check itself on planted data; the session's guard really collecting what a
handler invocation produces in this run; and a whole pytest run (``pytester``, in a subprocess)
in which one test's handler logs a declared value and fails at teardown, naming the log record
and not printing the value, and another writes a resolved secret into a ledger item (deleted
again before the test ends) and fails the same way.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cfnlocal.events import make_event, stack_id
from tests.leak_guard import (
    DECLARED,
    METADATA,
    RESPONSE_URL,
    SECRET,
    SIGNATURE,
    USER_VALUE,
    LeakGuard,
)

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
POOL = "eu-west-1_Guard1"
DECLARED_VALUE = "declared-value-4d7e"
METADATA_VALUE = "metadata-value-4d7e"
ORIGINAL_VALUE = "original-value-4d7e"
SECRET_VALUE = "resolved-secret-4d7e"
TOKEN = "0123456789abcdef4d7e"
URL = f"https://127.0.0.1:1/responses/r1?X-Amz-Signature={TOKEN}"


def planted_guard() -> LeakGuard:
    guard = LeakGuard()
    guard.note_event(
        make_event(
            "Create",
            stack_id=stack_id("Guard"),
            logical_id="Planted",
            properties={
                "UserPoolId": POOL,
                "Username": "planted-user",
                "UserAttributes": [
                    {"Name": "nickname", "Value": DECLARED_VALUE},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "locale", "Value": "en-GB"},
                ],
                "ClientMetadata": {"source": METADATA_VALUE},
            },
            response_url=URL,
        )
    )
    guard.note_user(
        "planted-user",
        [{"Name": "name", "Value": ORIGINAL_VALUE}, {"Name": "sub", "Value": "sub-4d7e-0000"}],
    )
    guard.note_ledger_allowed(ORIGINAL_VALUE)
    guard.note_secret_string(json.dumps({"key": SECRET_VALUE}))
    return guard


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param(f"applied {DECLARED_VALUE}", DECLARED, id="declared"),
        pytest.param(f"trigger got {METADATA_VALUE}", METADATA, id="metadata"),
        pytest.param(f"was {ORIGINAL_VALUE} before", USER_VALUE, id="original"),
        pytest.param(f"read {SECRET_VALUE}", SECRET, id="secret"),
        pytest.param(f"PUT to {URL}", RESPONSE_URL, id="url"),
        pytest.param(f"signature {TOKEN}", SIGNATURE, id="signature"),
    ],
)
def test_each_kind_of_value_in_a_log_record_is_a_leak(text: str, kind: str) -> None:
    guard = planted_guard()
    guard.note_text("log record user_attributes.lifecycle ERROR", text, counter="log records")

    leaks = guard.check()

    assert leaks
    assert {leak.where for leak in leaks} == {"log record user_attributes.lifecycle ERROR"}
    assert any(kind in leak.kind for leak in leaks)
    for leak in leaks:
        # The report shows a prefix, the length and a digest, never the value.
        assert leak.value not in str(leak)


def test_a_value_in_an_answer_is_found_at_its_field() -> None:
    guard = planted_guard()
    guard.note_answer("answer to r1", {"Status": "FAILED", "Reason": f"bad {DECLARED_VALUE}"})

    assert [(leak.where, leak.kind) for leak in guard.check()] == [
        ("answer to r1 Reason", DECLARED)
    ]


def test_ledger_items_may_hold_originals_and_declared_values_but_no_secret_or_metadata() -> None:
    guard = planted_guard()
    allowed = {"original": {"S": ORIGINAL_VALUE}, "declared": {"S": DECLARED_VALUE}}
    secret = {"owners": {"M": {"o1": {"S": SECRET_VALUE}}}}
    metadata = {"note": {"S": METADATA_VALUE}}

    leaks = guard.check(
        [("ledger item a", allowed), ("ledger item b", secret), ("ledger c", metadata)]
    )

    assert sorted((leak.where, leak.kind) for leak in leaks) == [
        ("ledger c note.S", METADATA),
        ("ledger item b owners.M.o1.S", SECRET),
    ]


def test_generic_and_public_strings_are_not_evidence() -> None:
    guard = planted_guard()
    # An attribute equal to the username: the template shows it anyway.
    guard.note_user("planted-user", [{"Name": "preferred_username", "Value": "planted-user"}])
    guard.note_text(
        "log record index INFO",
        f"true, nickname of planted-user in {POOL}, sub-4d7e-0000",
        counter="log records",
    )
    assert guard.check() == []
    assert {"true", "planted-user"} <= guard.excluded


def test_a_signature_parameter_is_a_leak_whatever_its_value() -> None:
    guard = LeakGuard()
    guard.note_text("log record crhelper DEBUG", "url ?X-Amz-Signature=unknown", counter="x")
    [leak] = guard.check()
    assert leak.kind == RESPONSE_URL


# -- the session's guard, on a real invocation -------------------------------------------------


def test_the_session_guard_collects_what_a_handler_invocation_produces(
    leak_guard: LeakGuard, response_sink: Any, tmp_path: Path
) -> None:
    from cfnlocal.lambda_runtime import LambdaContainer

    (tmp_path / "index.py").write_text(
        textwrap.dedent(
            """
            import logging
            def handler(event, context):
                logging.getLogger("user_attributes.lifecycle").warning("applied %d", 1)
            """
        )
    )
    before = dict(leak_guard.counts)
    url = response_sink.url("guard-check")
    LambdaContainer(tmp_path).invoke(
        make_event(
            "Create",
            stack_id=stack_id("Guard"),
            logical_id="Collected",
            properties={
                "UserPoolId": POOL,
                "Username": "collected-user",
                "UserAttributes": [{"Name": "nickname", "Value": DECLARED_VALUE}],
            },
            response_url=url,
        )
    )
    assert leak_guard.counts["events"] == before.get("events", 0) + 1
    assert leak_guard.counts["log records"] == before.get("log records", 0) + 1
    assert DECLARED in leak_guard.session_sensitive[DECLARED_VALUE]
    assert RESPONSE_URL in leak_guard.session_sensitive[url]


# -- a whole run -------------------------------------------------------------------------------

INNER_TESTS = """
import textwrap

from cfnlocal.events import make_event
from cfnlocal.lambda_runtime import LambdaContainer

HANDLER = textwrap.dedent('''
    import logging
    logger = logging.getLogger("user_attributes.lifecycle")
    def handler(event, context):
        properties = event["ResourceProperties"]
        if properties.get("Leak") == "yes":
            logger.error("could not apply %s", properties["UserAttributes"][0]["Value"])
        else:
            logger.warning("applied %d attribute", 1)
''')


def invoke(tmp_path, leak):
    (tmp_path / "index.py").write_text(HANDLER)
    LambdaContainer(tmp_path).invoke(
        make_event(
            "Create",
            stack_id="arn:aws:cloudformation:eu-west-1:123456789012:stack/Inner/1",
            logical_id="Inner",
            properties={
                "UserPoolId": "eu-west-1_Inner1",
                "Username": "inner-user",
                "UserAttributes": [{"Name": "nickname", "Value": "planted-SECRET-4d7e"}],
                "Leak": leak,
            },
            response_url="https://127.0.0.1:1/responses/r?X-Amz-Signature=feedbeef4d7e",
        )
    )


def test_handler_that_logs_a_value(tmp_path):
    invoke(tmp_path, "yes")


def test_handler_that_logs_no_value(tmp_path):
    invoke(tmp_path, "no")


def test_ledger_item_with_a_resolved_secret_even_if_deleted_again(monkeypatch):
    import boto3
    from moto import mock_aws

    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        ssm.put_parameter(Name="/inner/key", Value="parameter-SECRET-4d7e", Type="SecureString")
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(
            TableName="ledger",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        item = {"pk": {"S": "p"}, "sk": {"S": "OWNER#o"}, "v": {"S": "parameter-SECRET-4d7e"}}
        dynamodb.put_item(TableName="ledger", Item=item)
        dynamodb.delete_item(TableName="ledger", Key={"pk": {"S": "p"}})
"""


def test_a_run_fails_the_test_whose_handler_logged_a_value(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_inner=INNER_TESTS)
    pythonpath = os.pathsep.join(
        [str(REPO), str(REPO / "lambda"), os.environ.get("PYTHONPATH", "")]
    )
    monkeypatch.setenv("PYTHONPATH", pythonpath)

    # Without pytest's log capture, which would print the failing test's records itself.
    result = pytester.runpytest_subprocess(
        "-p", "tests.leak_guard", "-p", "no:cacheprovider", "-p", "no:logging"
    )

    result.assert_outcomes(passed=3, errors=2)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_handler_that_logs_a_value*",
            "*leak guard: 1 sensitive value(s) found*",
            "*log record user_attributes.lifecycle ERROR: declared attribute value 'pla'..."
            " (19 chars, sha256 *",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_ledger_item_with_a_resolved_secret_even_if_deleted_again*",
            "*ledger item ledger OWNER#o (as written) v.S: resolved secret value 'par'...*",
        ]
    )
    assert "teardown of test_handler_that_logs_no_value" not in output
    assert "planted-SECRET-4d7e" not in output
    assert "parameter-SECRET-4d7e" not in output
    result.stdout.fnmatch_lines(["*= leak guard =*", "events: 2", "log records: 2", "leaks: 2"])
