"""Suite-wide leak guard (a pytest plugin): nothing sensitive in logs, answers or the ledger.

Registered from ``tests/conftest.py`` (``pytest_plugins``). For the whole session it collects

- **texts the handler produced**: every log record of the handler's loggers (``index``,
  ``user_attributes``, ``crhelper``, ``botocore``/``boto3``/``urllib3``) and every root-logger
  record emitted while a handler invocation runs, with its exception and stack text (crhelper
  logs each exception with ``exc_info``); every exception escaping a handler; every answer body
  any ``ResponseSink`` received (every string in it: ``Reason``, ``PhysicalResourceId``,
  ``Data``...);
- **ledger items**: every item version written to any DynamoDB table in moto (moto's
  ``Table.put_item``, which plain and transactional puts go through), and every item present at
  each test's teardown, read from moto's backend while the test's mock still holds it;
- **sensitive values**: from every event a ``LambdaContainer`` is invoked with, the declared
  attribute values (``Value``) and ``ClientMetadata`` values (new and old properties) and the
  pre-signed ``ResponseURL`` with its signature; every ``ResponseSink`` signature token; every
  attribute value of every Cognito user in moto (as created, and as found at teardown); every
  Secrets Manager ``SecretString`` (each version, and each string inside a JSON secret) and every
  SSM ``SecureString`` value created in moto.

At each test's teardown the texts collected since the previous check are searched for the
sensitive values of that test (and of the one before, for records emitted late); a hit fails
the test (an error at teardown) naming where it was found and showing only the value's first
characters, its length and a digest. Ledger items may hold original values (they are needed to
restore) and declared values as the template states them, so in the ledger only resolved secret
values, ``ClientMetadata`` values and response URLs/signatures count as leaks (unless the same
string is also a plain declared value or a user's value as created). The literal
``X-Amz-Signature=`` anywhere is a leaked response URL.

Excluded as too generic to be evidence: strings shorter than 5 characters (which covers short
digit strings such as ``"42"``), ``true``/``false`` in any case, and strings that are public in
the template or by design: usernames, user pool ids, attribute names, the ``sub`` identifier,
``RESTORE``/``RETAIN``.

At the end, the terminal summary states what was scanned (log records, exceptions, answers,
ledger items, events, sensitive values by kind); records emitted outside any test are checked
against every value seen in the session and fail the run if they leak.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import inspect
import json
import logging
import re
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pytest

DECLARED: Final = "declared attribute value"
METADATA: Final = "ClientMetadata value"
USER_VALUE: Final = "user attribute value in Cognito"
SECRET: Final = "resolved secret value"
RESPONSE_URL: Final = "pre-signed response URL"
SIGNATURE: Final = "response URL signature"
URL_MARKER: Final = "X-Amz-Signature="

NOT_IN_LEDGER: Final = frozenset({SECRET, METADATA, RESPONSE_URL, SIGNATURE})
_EVENT_IDENTIFIERS: Final = (
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "ResourceType",
    "ServiceToken",
    "PhysicalResourceId",
)
"""Event fields that answers echo and that the template or CloudFormation makes public."""
HANDLER_LOGGERS: Final = frozenset(
    {"index", "user_attributes", "crhelper", "botocore", "boto3", "urllib3", "s3transfer"}
)
MIN_LENGTH: Final = 5
GENERIC: Final = frozenset({"true", "false", "RESTORE", "RETAIN"})
MAX_HITS_PER_VALUE: Final = 3


def is_generic(value: str) -> bool:
    """Too short or too common to prove anything leaked."""
    return len(value) < MIN_LENGTH or value.lower() in GENERIC or value in GENERIC


def redacted(value: str) -> str:
    """How a message shows a leaked value: never the value itself."""
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{value[:3]!r}... ({len(value)} chars, sha256 {digest})"


@dataclass(frozen=True)
class Leak:
    where: str
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {redacted(self.value)}"


@dataclass
class _Window:
    """What was collected since the last check."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    sensitive: dict[str, set[str]] = field(default_factory=dict)
    public: set[str] = field(default_factory=set)
    public_texts: set[str] = field(default_factory=set)
    ledger_allowed: set[str] = field(default_factory=set)
    ledger_writes: list[tuple[str, object]] = field(default_factory=list)


class LeakGuard:
    """Collects texts and sensitive values; ``check`` finds the sensitive values in the texts.

    Thread-safe: handlers run on worker threads (concurrent invocations, crhelper's timer).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._window = _Window()
        self._previous = _Window()
        self.session_sensitive: dict[str, set[str]] = {}
        self.session_public: set[str] = set()
        self.session_public_texts: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.excluded: set[str] = set()
        self.leaks: list[tuple[str, Leak]] = []

    # -- sensitive values ---------------------------------------------------------------------

    def note_sensitive(self, value: object, kind: str) -> None:
        for text in _strings(value):
            with self._lock:
                self._window.sensitive.setdefault(text, set()).add(kind)
                self.session_sensitive.setdefault(text, set()).add(kind)

    def note_public(self, value: object) -> None:
        if isinstance(value, str) and value:
            with self._lock:
                self._window.public.add(value)
                self.session_public.add(value)

    def note_ledger_allowed(self, value: object) -> None:
        with self._lock:
            self._window.ledger_allowed.update(_strings(value))

    def note_secret_string(self, secret: object) -> None:
        """A secret's whole string, and every string inside it when it is a JSON document."""
        if not isinstance(secret, str):
            return
        self.note_sensitive(secret, SECRET)
        try:
            document = json.loads(secret)
        except ValueError:
            return
        if not isinstance(document, str):
            self.note_sensitive(document, SECRET)

    def note_event(self, event: Mapping[str, Any]) -> None:
        """An event sent to a handler: its declared values, metadata and response URL."""
        self.count("events")
        url = event.get("ResponseURL")
        if isinstance(url, str) and url:
            self.note_sensitive(url, RESPONSE_URL)
            _, _, query = url.partition("?")
            for part in query.split("&"):
                name, _, token = part.partition("=")
                if name == "X-Amz-Signature" and token:
                    self.note_sensitive(token, SIGNATURE)
        self._note_identifiers(event)
        for key in ("ResourceProperties", "OldResourceProperties"):
            properties = event.get(key)
            if isinstance(properties, Mapping):
                self._note_properties(properties)

    def _note_identifiers(self, event: Mapping[str, Any]) -> None:
        for key in _EVENT_IDENTIFIERS:
            value = event.get(key)
            if isinstance(value, str) and value:
                with self._lock:
                    self._window.public_texts.add(value)
                    self.session_public_texts.add(value)

    def _note_properties(self, properties: Mapping[str, Any]) -> None:
        for key in ("UserPoolId", "Username"):
            self.note_public(properties.get(key))
        attributes = properties.get("UserAttributes")
        for item in attributes if isinstance(attributes, list) else []:
            if not isinstance(item, Mapping):
                continue
            self.note_public(item.get("Name"))
            if "Value" in item:
                self.note_sensitive(item["Value"], DECLARED)
                self.note_ledger_allowed(item["Value"])
            # A ValueFrom reference is stated in the template: it may be stored and shown.
        absent = properties.get("AbsentAttributes")
        for name in absent if isinstance(absent, list) else []:
            self.note_public(name)
        metadata = properties.get("ClientMetadata")
        if isinstance(metadata, Mapping):
            for value in metadata.values():
                self.note_sensitive(value, METADATA)

    def note_user(self, username: object, attributes: Iterable[Mapping[str, Any]]) -> None:
        """A Cognito user's attributes (sub and the username are identifiers, not values)."""
        self.note_public(username)
        for attribute in attributes:
            if attribute.get("Name") == "sub":
                self.note_public(attribute.get("Value"))
            else:
                self.note_sensitive(attribute.get("Value"), USER_VALUE)

    # -- texts --------------------------------------------------------------------------------

    def note_text(self, where: str, text: str, *, counter: str) -> None:
        with self._lock:
            self.counts[counter] += 1
            self._window.texts.append((where, text))

    def note_ledger_write(self, where: str, item: object) -> None:
        with self._lock:
            self.counts["ledger items written"] += 1
            self._window.ledger_writes.append((f"{where} (as written)".strip(), item))

    def note_answer(self, where: str, body: object) -> None:
        self.count("answers")
        for path, text in _leaves(body, ""):
            with self._lock:
                self._window.texts.append((f"{where} {path}".rstrip(), text))

    # -- checks -------------------------------------------------------------------------------

    def check(self, ledger: Iterable[tuple[str, object]] = ()) -> list[Leak]:
        """Search what was collected since the last check; start a new window.

        :param ledger: ``(where, item)`` of every ledger item to check.
        """
        with self._lock:
            window, previous = self._window, self._previous
            self._window, self._previous = _Window(), window
        public = window.public | previous.public
        public_texts = window.public_texts | previous.public_texts
        candidates: dict[str, set[str]] = {}
        for source in (previous.sensitive, window.sensitive):
            for value, kinds in source.items():
                candidates.setdefault(value, set()).update(kinds)
        sensitive = self._usable(candidates, public, public_texts)
        leaks = find_leaks(window.texts, sensitive)
        allowed = window.ledger_allowed | previous.ledger_allowed
        not_in_ledger = {
            value: kinds & NOT_IN_LEDGER
            for value, kinds in sensitive.items()
            if kinds & NOT_IN_LEDGER and value not in allowed
        }
        ledger_texts: list[tuple[str, str]] = []
        for where, item in window.ledger_writes:
            ledger_texts.extend((f"{where} {path}".rstrip(), text) for path, text in _leaves(item))
        for where, item in ledger:
            self.count("ledger items at teardown")
            ledger_texts.extend((f"{where} {path}".rstrip(), text) for path, text in _leaves(item))
        leaks += find_leaks(ledger_texts, not_in_ledger)
        return leaks

    def check_session(self) -> list[Leak]:
        """What was collected outside any test, against every value seen in the session."""
        with self._lock:
            texts = self._window.texts
            self._window, self._previous = _Window(), _Window()
        return find_leaks(
            texts,
            self._usable(self.session_sensitive, self.session_public, self.session_public_texts),
        )

    def _usable(
        self, values: Mapping[str, set[str]], public: set[str], public_texts: Iterable[str]
    ) -> dict[str, set[str]]:
        """The values worth searching for: not generic, and (unless a secret) not public."""
        identifiers = "\x00".join(public_texts)
        usable: dict[str, set[str]] = {}
        never_public = {SECRET, SIGNATURE, RESPONSE_URL}
        for value, kinds in values.items():
            disclosed = kinds.isdisjoint(never_public) and (value in public or value in identifiers)
            if is_generic(value) or disclosed:
                self.excluded.add(value)
            else:
                usable[value] = kinds
        return usable

    def count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def summary(self) -> dict[str, int]:
        kinds: Counter[str] = Counter()
        with self._lock:
            usable = self._usable(
                self.session_sensitive, self.session_public, self.session_public_texts
            )
        for value_kinds in usable.values():
            kinds.update(value_kinds)
        return {
            **{key: self.counts[key] for key in _COUNTED},
            **{f"sensitive: {kind}": kinds[kind] for kind in _KINDS},
            "sensitive values (distinct, searched for)": len(usable),
            "values excluded as generic or public": len(self.excluded),
            "leaks": len(self.leaks),
        }


_COUNTED: Final = (
    "tests checked",
    "events",
    "log records",
    "log records with an exception",
    "exceptions escaping a handler",
    "answers",
    "ledger items written",
    "ledger items at teardown",
)
_KINDS: Final = (DECLARED, METADATA, USER_VALUE, SECRET, RESPONSE_URL, SIGNATURE)


def find_leaks(texts: list[tuple[str, str]], sensitive: Mapping[str, set[str]]) -> list[Leak]:
    """Every sensitive value found in ``texts`` (at most a few places per value), and every
    text carrying a pre-signed URL's signature parameter.

    Linear in the texts for the many hex signature tokens (a run has thousands, one per
    event): hex runs are cut into windows and looked up. Other values are searched one by
    one; a pre-signed URL needs no search of its own (its signature parameter and token do).
    """
    if not texts:
        return []
    corpus = _Corpus(texts)
    hex_values: dict[int, dict[str, str]] = {}
    for value, kinds in sensitive.items():
        kind = " / ".join(sorted(kinds))
        if _HEX.fullmatch(value):
            hex_values.setdefault(len(value), {})[value] = kind
        elif not (kinds == {RESPONSE_URL} and URL_MARKER in value):
            corpus.search(value, kind)
    for length, values in hex_values.items():
        corpus.search_hex(length, values)
    for where, text in texts:
        if URL_MARKER in text:
            corpus.leaks.append(Leak(where, RESPONSE_URL, text[text.index(URL_MARKER) :]))
    return corpus.leaks


class _Corpus:
    """The texts joined into one string, searched by offset."""

    def __init__(self, texts: list[tuple[str, str]]) -> None:
        self.texts = texts
        self.starts: list[int] = []
        offset = 0
        for _, text in texts:
            self.starts.append(offset)
            offset += len(text) + 1
        self.blob = "\x00".join(text for _, text in texts)
        self.leaks: list[Leak] = []

    def _found(self, position: int, kind: str, value: str) -> int:
        index = bisect.bisect_right(self.starts, position) - 1
        self.leaks.append(Leak(self.texts[index][0], kind, value))
        return index

    def search(self, value: str, kind: str) -> None:
        hits, position = 0, self.blob.find(value)
        while position >= 0 and hits < MAX_HITS_PER_VALUE:
            index = self._found(position, kind, value)
            hits += 1
            if index + 1 >= len(self.starts):
                return
            position = self.blob.find(value, self.starts[index + 1])

    def search_hex(self, length: int, values: Mapping[str, str]) -> None:
        hits: Counter[str] = Counter()
        for run in re.finditer(f"[0-9a-fA-F]{{{length},}}", self.blob):
            text = run.group()
            for shift in range(len(text) - length + 1):
                window = text[shift : shift + length]
                if window in values and hits[window] < MAX_HITS_PER_VALUE:
                    hits[window] += 1
                    self._found(run.start() + shift, values[window], window)


_HEX: Final = re.compile(r"[0-9a-fA-F]{16,}")


def _strings(value: object) -> Iterator[str]:
    """Every string in a JSON-like value (a mapping's keys are names, not values)."""
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """``(path, string)`` for every string in a JSON-like value, keys included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield path, str(key)
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")


# -- collection: logging -----------------------------------------------------------------------

_RUNNING = [0]
_RUNNING_LOCK = threading.Lock()


class _RecordCollector(logging.Handler):
    """On the root logger at level 0 for the whole session. Formats records itself: crhelper
    puts its JSON formatter on every root handler, and the message is what matters."""

    def __init__(self, guard: LeakGuard) -> None:
        super().__init__(level=logging.NOTSET)
        self.guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        top = record.name.split(".", 1)[0]
        if top not in HANDLER_LOGGERS and not (record.name == "root" and _RUNNING[0] > 0):
            return
        try:
            parts = [record.getMessage()]
        except (TypeError, ValueError):
            parts = [str(record.msg), repr(record.args)]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
            self.guard.count("log records with an exception")
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        self.guard.note_text(
            f"log record {record.name} {record.levelname}", "\n".join(parts), counter="log records"
        )


# -- collection: patches -----------------------------------------------------------------------


def _bound(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return inspect.signature(function).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return {}


class _Patches:
    """Wraps, for the session, the points every event, answer, user and secret passes."""

    def __init__(self, guard: LeakGuard) -> None:
        self.guard = guard
        self._undo: list[Callable[[], None]] = []
        self.sinks: list[Any] = []
        self._seen_deliveries: set[int] = set()
        self._seen_tokens: dict[int, int] = {}

    def install(self) -> None:
        from cfnlocal.https_sink import ResponseSink
        from cfnlocal.lambda_runtime import LambdaContainer

        guard = self.guard
        sinks = self.sinks

        def invoke(original: Callable[..., Any], container: Any, event: Any, **kwargs: Any) -> Any:
            if isinstance(event, Mapping):
                guard.note_event(event)
            with _RUNNING_LOCK:
                _RUNNING[0] += 1
            try:
                return original(container, event, **kwargs)
            except BaseException as error:
                guard.note_text(
                    f"exception escaping the handler ({type(error).__name__})",
                    "".join(traceback.format_exception(error)),
                    counter="exceptions escaping a handler",
                )
                raise
            finally:
                with _RUNNING_LOCK:
                    _RUNNING[0] -= 1

        def sink_init(original: Callable[..., Any], sink: Any, *args: Any, **kwargs: Any) -> None:
            original(sink, *args, **kwargs)
            sinks.append(sink)

        self._wrap(LambdaContainer, "invoke", invoke)
        self._wrap(ResponseSink, "__init__", sink_init)
        self._install_moto()

    def _install_moto(self) -> None:
        from moto.cognitoidp.models import CognitoIdpBackend
        from moto.dynamodb.models.table import Table
        from moto.secretsmanager.models import SecretsManagerBackend
        from moto.ssm.models import SimpleSystemManagerBackend

        guard = self.guard

        def create_user(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            arguments = _bound(original, args, kwargs)
            attributes = arguments.get("attributes") or []
            guard.note_user(arguments.get("username"), attributes)
            for attribute in attributes:
                # A value the user had before any declaration: the ledger may hold it.
                guard.note_ledger_allowed(attribute.get("Value"))
            return original(*args, **kwargs)

        def secret(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            guard.note_secret_string(_bound(original, args, kwargs).get("secret_string"))
            return original(*args, **kwargs)

        def parameter(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            arguments = _bound(original, args, kwargs)
            if arguments.get("parameter_type") == "SecureString":
                guard.note_secret_string(arguments.get("value"))
            return original(*args, **kwargs)

        def put_item(original: Callable[..., Any], table: Any, *args: Any, **kwargs: Any) -> Any:
            item = original(table, *args, **kwargs)
            # Every version of every item, also one a later write replaces or deletes.
            attributes = item.to_json().get("Attributes", {})
            guard.note_ledger_write(_ledger_where(table.name, attributes), attributes)
            return item

        self._wrap(Table, "put_item", put_item)
        self._wrap(CognitoIdpBackend, "admin_create_user", create_user)
        for name in ("create_secret", "put_secret_value", "update_secret"):
            self._wrap(SecretsManagerBackend, name, secret)
        self._wrap(SimpleSystemManagerBackend, "put_parameter", parameter)

    def _wrap(self, owner: type, name: str, wrapper: Callable[..., Any]) -> None:
        original = owner.__dict__[name]

        @functools.wraps(original)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return wrapper(original, *args, **kwargs)

        setattr(owner, name, wrapped)
        self._undo.append(lambda: setattr(owner, name, original))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def collect_answers(self) -> None:
        for sink in self.sinks:
            tokens = sink.tokens
            start = self._seen_tokens.get(id(sink), 0)
            for token in tokens[start:]:
                self.guard.note_sensitive(token, SIGNATURE)
            self._seen_tokens[id(sink)] = len(tokens)
            for delivery in sink.all_deliveries():
                if id(delivery) not in self._seen_deliveries:
                    self._seen_deliveries.add(id(delivery))
                    # The sink keeps every delivery alive, so an id is never reused.
                    self.guard.note_answer(f"answer to {delivery.request_id[:8]}", delivery.body)


def moto_state(guard: LeakGuard) -> list[tuple[str, object]]:
    """Note every user and secret in moto's backends; return every DynamoDB item."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.secretsmanager.models import secretsmanager_backends

    def backends(backend_dict: Any) -> Iterator[Any]:
        # dict's own methods: BackendDict creates backends on lookup.
        for regions in dict.values(backend_dict):
            yield from dict.values(regions)

    for backend in backends(cognitoidp_backends):
        for pool_id, pool in backend.user_pools.items():
            guard.note_public(pool_id)
            for user in pool.users.values():
                guard.note_user(user.username, user.attributes)
    for backend in backends(secretsmanager_backends):
        for secret in backend.secrets.values():
            for version in getattr(secret, "versions", {}).values():
                guard.note_secret_string(version.get("secret_string"))
    items: list[tuple[str, object]] = []
    for backend in backends(dynamodb_backends):
        for name, table in backend.tables.items():
            for item in table.all_items():
                attributes = item.to_json().get("Attributes", {})
                items.append((_ledger_where(name, attributes), attributes))
    return items


def _ledger_where(table: str, attributes: Mapping[str, Any]) -> str:
    sort_key = attributes.get("sk", {})
    return f"ledger item {table} {sort_key.get('S', '') if isinstance(sort_key, Mapping) else ''}"


# -- pytest hooks ------------------------------------------------------------------------------

_GUARD_KEY = pytest.StashKey[LeakGuard]()
_PATCHES_KEY = pytest.StashKey[_Patches]()
_COLLECTOR_KEY = pytest.StashKey[_RecordCollector]()


def pytest_configure(config: pytest.Config) -> None:
    guard = LeakGuard()
    patches = _Patches(guard)
    patches.install()
    collector = _RecordCollector(guard)
    logging.getLogger().addHandler(collector)
    config.stash[_GUARD_KEY] = guard
    config.stash[_PATCHES_KEY] = patches
    config.stash[_COLLECTOR_KEY] = collector


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.stash.get(_COLLECTOR_KEY, None)
    if collector is not None:
        logging.getLogger().removeHandler(collector)
    patches = config.stash.get(_PATCHES_KEY, None)
    if patches is not None:
        patches.uninstall()


@pytest.fixture(autouse=True)
def leak_guard(request: pytest.FixtureRequest) -> Iterator[LeakGuard]:
    """Checks at teardown what the test produced; ``aws_isolation`` (when the suite has it) is
    torn down after this, so moto still holds the test's users, secrets and ledger items."""
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("aws_isolation")
    guard = request.config.stash[_GUARD_KEY]
    yield guard
    patches = request.config.stash[_PATCHES_KEY]
    patches.collect_answers()
    ledger = moto_state(guard)
    guard.count("tests checked")
    leaks = guard.check(ledger)
    if leaks:
        guard.leaks.extend((request.node.nodeid, leak) for leak in leaks)
        lines = "\n".join(f"  {leak}" for leak in leaks[:20])
        more = f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else ""
        pytest.fail(
            f"leak guard: {len(leaks)} sensitive value(s) found in what the handler produced:\n"
            f"{lines}{more}",
            pytrace=False,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    guard = session.config.stash.get(_GUARD_KEY, None)
    patches = session.config.stash.get(_PATCHES_KEY, None)
    if guard is None or patches is None:
        return
    patches.collect_answers()
    leaks = guard.check_session()
    if leaks:
        guard.leaks.extend(("(outside any test)", leak) for leak in leaks)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller prints the summary
        workeroutput["leak_guard"] = guard.summary()


def pytest_testnodedown(node: Any, error: object) -> None:
    summary = getattr(node, "workeroutput", {}).get("leak_guard")
    if summary:
        node.config.stash.setdefault(_WORKER_SUMMARIES_KEY, []).append(summary)


_WORKER_SUMMARIES_KEY = pytest.StashKey[list[dict[str, int]]]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD_KEY, None)
    if guard is None or hasattr(config, "workerinput"):
        return
    totals: Counter[str] = Counter(guard.summary())
    for summary in config.stash.get(_WORKER_SUMMARIES_KEY, []):
        totals.update(summary)
    terminalreporter.section("leak guard")
    for key, count in totals.items():
        terminalreporter.write_line(f"{key}: {count}")
    for nodeid, leak in guard.leaks:
        terminalreporter.write_line(f"LEAK in {nodeid}: {leak}", red=True)
