"""The distribution as a consumer gets it: built, installed alone, and used from elsewhere.

``make test-wheel`` (``WHEEL_RUN=1``; CI runs it) builds the sdist and, from it, the wheel;
installs the wheel into a fresh venv outside the checkout (the CDK pinned as
``requirements.txt`` pins it); and synthesizes two consumer apps from a temporary directory:
one that creates its pool in the same app (``consumer_pool_in_app.py``) and one that imports a
pool by id and reads a seed file (``consumer_imported_pool.py``). The same apps are then
synthesized with the checkout's library, which builds the asset from ``lambda/``: the asset
hash, the provider's logical ids and every ServiceToken must come out the same, because
CloudFormation refuses to change a custom resource's ServiceToken and a team moving from a
vendored copy to the wheel must see no replacement.
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.wheel.conftest import FIGURES

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PACKAGE = "cognito_seed_users"
CONSUMERS = {
    "consumer_pool_in_app": ("consumer_pool_in_app.py",),
    "consumer_imported_pool": ("consumer_imported_pool.py", "consumer-seed-users.yaml"),
}
CUSTOM_RESOURCES = {"consumer_pool_in_app": 2, "consumer_imported_pool": 2}
# Any HTTP(S) request during synth goes to a closed port and fails: synth is offline.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
PROBED = ("crhelper", "cdk_nag", "cfnlocal", "stacks", "user_attributes")
"""What a consumer's venv must not need: the function's dependency, the test tools, the repo."""
FORBIDDEN_PARTS = {"tests", "cfnlocal", "__pycache__", ".pytest_cache", ".mypy_cache"}


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Consumer:
    name: str
    directory: Path


def _run(arguments: list[str], *, cwd: Path, extra_env: dict[str, str] | None = None) -> str:
    environment = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    environment.pop("PYTHONPATH", None)
    environment.update(extra_env or {})
    result = subprocess.run(
        arguments, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{' '.join(arguments)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    outdir = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(outdir), str(REPO)], cwd=outdir)
    [wheel] = outdir.glob("*.whl")
    [sdist] = outdir.glob("*.tar.gz")
    FIGURES["wheel"] = f"{wheel.name}, {wheel.stat().st_size:,} bytes"
    return Built(wheel, sdist)


@pytest.fixture(scope="session")
def wheel_names(built: Built) -> list[str]:
    with zipfile.ZipFile(built.wheel) as archive:
        names = archive.namelist()
    FIGURES["wheel files"] = len(names)
    return names


@pytest.fixture(scope="session")
def fresh_python(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv outside the checkout holding the wheel and what it depends on, nothing else."""
    home = tmp_path_factory.mktemp("consumer-venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    constraints = home / "constraints.txt"
    constraints.write_text(_pins(REPO / "requirements.txt"), encoding="utf-8")
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(constraints), str(built.wheel)],
        cwd=home,
    )
    return python


@pytest.fixture(scope="session")
def importable_after_install(fresh_python: Path) -> dict[str, bool]:
    """Which of ``PROBED`` the fresh venv can import right after the wheel's install."""
    probe = (
        "import importlib.util, json, sys; "
        "print(json.dumps({n: importlib.util.find_spec(n) is not None for n in sys.argv[1:]}))"
    )
    found: dict[str, bool] = json.loads(
        _run([str(fresh_python), "-c", probe, *PROBED], cwd=fresh_python.parent)
    )
    return found


@pytest.fixture(scope="session")
def consumers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Consumer]:
    """Each consumer app copied, with the inspection script, to a directory of its own."""
    found: dict[str, Consumer] = {}
    for name, files in CONSUMERS.items():
        directory = tmp_path_factory.mktemp(name)
        for file in (*files, "inspect_consumer.py"):
            shutil.copy(HERE / file, directory / file)
        found[name] = Consumer(name, directory)
    return found


def _inspect(python: Path, consumer: Consumer, label: str, *, nag: bool) -> dict[str, Any]:
    outdir = consumer.directory / f"cdk.out.{label}"
    arguments = [str(python), "inspect_consumer.py", consumer.name, str(outdir)]
    output = _run(
        [*arguments, "--nag"] if nag else arguments, cwd=consumer.directory, extra_env=OFFLINE
    )
    facts: dict[str, Any] = json.loads(output.splitlines()[-1])
    return facts


@pytest.fixture(scope="session")
def wheel_only_synths(
    fresh_python: Path, consumers: dict[str, Consumer]
) -> dict[str, dict[str, Any]]:
    """Each consumer synthesized in the venv that holds only the wheel (no cdk-nag yet)."""
    synths = {name: _inspect(fresh_python, c, "plain", nag=False) for name, c in consumers.items()}
    FIGURES["consumer synth, wheel only (s)"] = {
        name: facts["synth_seconds"] for name, facts in synths.items()
    }
    return synths


@pytest.fixture(scope="session")
def wheel_synths(
    fresh_python: Path,
    consumers: dict[str, Consumer],
    wheel_only_synths: dict[str, dict[str, Any]],
    importable_after_install: dict[str, bool],
) -> dict[str, dict[str, Any]]:
    """Each consumer synthesized from the wheel with cdk-nag's AwsSolutions pack (installed
    only now: the wheel-only synths and the import probe come first)."""
    cdk_nag = _pins(REPO / "requirements-dev.txt", only=("cdk-nag",)).strip()
    _run([str(fresh_python), "-m", "pip", "install", "--quiet", cdk_nag], cwd=fresh_python.parent)
    synths = {name: _inspect(fresh_python, c, "wheel", nag=True) for name, c in consumers.items()}
    FIGURES["consumer synth with cdk-nag, wheel (s)"] = {
        name: facts["synth_seconds"] for name, facts in synths.items()
    }
    return synths


@pytest.fixture(scope="session")
def checkout_synths(consumers: dict[str, Consumer]) -> dict[str, dict[str, Any]]:
    """The same consumers synthesized with the checkout's (editable) library."""
    python = Path(sys.executable)
    synths = {name: _inspect(python, c, "checkout", nag=True) for name, c in consumers.items()}
    FIGURES["consumer synth with cdk-nag, checkout (s)"] = {
        name: facts["synth_seconds"] for name, facts in synths.items()
    }
    return synths


def _pins(requirements: Path, only: tuple[str, ...] | None = None) -> str:
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" not in requirement or requirement.startswith("-"):
            continue
        name = requirement.split("==", 1)[0].split("[", 1)[0]
        if only is None or name in only:
            lines.append(requirement)
    return "\n".join(lines) + "\n"


# -- The wheel's contents -------------------------------------------------------------------


def test_wheel_holds_no_tests_local_models_or_caches(wheel_names: list[str]) -> None:
    offending = [
        name
        for name in wheel_names
        if FORBIDDEN_PARTS & set(Path(name).parts) or name.endswith((".pyc", ".pyo"))
    ]
    assert offending == []
    top_level = {Path(name).parts[0] for name in wheel_names}
    assert top_level == {PACKAGE, f"{PACKAGE}-{_version()}.dist-info"}


def test_wheel_holds_the_library_its_types_and_the_seed_file_schema(
    wheel_names: list[str],
) -> None:
    library = sorted(
        path.relative_to(REPO / "src").as_posix()
        for path in (REPO / "src" / PACKAGE).rglob("*")
        if path.is_file() and not FORBIDDEN_PARTS & set(path.parts) and path.suffix != ".pyc"
    )
    assert set(library) <= set(wheel_names)
    assert f"{PACKAGE}/py.typed" in wheel_names
    assert f"{PACKAGE}/seed-users.schema.json" in wheel_names


def test_wheel_holds_the_prepared_function_asset_with_its_pinned_crhelper(
    wheel_names: list[str],
) -> None:
    asset = f"{PACKAGE}/lambda_asset/"
    source = sorted(
        path.relative_to(REPO / "lambda").as_posix()
        for path in (REPO / "lambda").rglob("*")
        if path.is_file() and not FORBIDDEN_PARTS & set(path.parts) and path.suffix != ".pyc"
    )
    assert {asset + name for name in source} <= set(wheel_names)
    crhelper = _pins(REPO / "lambda" / "requirements.txt").strip().split("==")
    assert f"{asset}crhelper/resource_helper.py" in wheel_names
    assert f"{asset}crhelper-{crhelper[1]}.dist-info/LICENSE" in wheel_names
    # What differs between installers would make the asset hash differ between builds.
    assert not [name for name in wheel_names if name.startswith(asset) and "RECORD" in name]


def test_wheel_metadata_has_the_version_license_and_dependency_ranges(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as archive:
        text = archive.read(f"{PACKAGE}-{_version()}.dist-info/METADATA").decode()
    metadata = email.parser.Parser().parsestr(text)
    assert metadata["Name"] == "cognito-seed-users"
    assert metadata["Version"] == _version()
    assert metadata["License-Expression"] == "Apache-2.0"
    requires = {
        re.match(r"[A-Za-z0-9._-]+", line)[0].lower(): line  # type: ignore[index]
        for line in metadata.get_all("Requires-Dist") or []
    }
    for name in ("aws-cdk-lib", "constructs", "pyyaml"):
        # A range: a floor CI tests, and a ceiling before the next major version.
        assert ">=" in requires[name], requires
        assert "<" in requires[name].replace("<=", ""), requires
    with zipfile.ZipFile(built.wheel) as archive:
        entry_points = archive.read(f"{PACKAGE}-{_version()}.dist-info/entry_points.txt").decode()
    assert "seed-users = cognito_seed_users.cli:main" in entry_points


def test_sdist_holds_what_the_wheel_is_built_from(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {
            Path(name).relative_to(Path(name).parts[0]).as_posix() for name in archive.getnames()
        }
    assert {"pyproject.toml", "hatch_build.py", "LICENSE", "CHANGELOG.md", "README.md"} <= names
    assert "lambda/index.py" in names
    assert "lambda/requirements.txt" in names
    assert not [name for name in names if name.startswith(("tests/", "cfnlocal/"))]


def test_a_git_url_builds_a_wheel_with_the_same_files(
    wheel_names: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``pip install "cognito-seed-users @ git+<url>"`` (the README's second way in) builds the
    wheel from a clone of the committed HEAD, with the build hook: the same files come out."""
    outdir = tmp_path_factory.mktemp("git-wheel")
    requirement = f"cognito-seed-users @ git+file://{REPO}"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(outdir),
            requirement,
        ],
        cwd=outdir,
    )
    [wheel] = outdir.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert sorted(archive.namelist()) == sorted(wheel_names)


def _version() -> str:
    text = (REPO / "src" / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    [line] = [line for line in text.splitlines() if line.startswith("__version__")]
    return line.split("=", 1)[1].strip().strip('"')


def test_build_requirements_pin_the_crhelper_the_function_pins() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    function_pin = _pins(REPO / "lambda" / "requirements.txt").strip()
    assert function_pin in pyproject["build-system"]["requires"]


# -- Consumer apps --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_fresh_venv_with_only_the_wheel_synthesizes_the_consumer_offline(
    name: str, fresh_python: Path, wheel_only_synths: dict[str, dict[str, Any]]
) -> None:
    facts = wheel_only_synths[name]
    assert Path(facts["library"]).is_relative_to(fresh_python.parents[1])
    assert not Path(facts["library"]).is_relative_to(REPO)
    assert facts["version"] == _version()
    assert len(facts["custom_resources"]) == CUSTOM_RESOURCES[name]
    assert facts["nag"] is None or facts["nag"]["plugins"] == []


def test_fresh_venv_has_neither_crhelper_nor_cdk_nag_nor_the_checkout(
    importable_after_install: dict[str, bool],
) -> None:
    assert importable_after_install == dict.fromkeys(PROBED, False)


def test_the_wheel_installs_the_seed_users_command_running_the_functions_code(
    fresh_python: Path,
) -> None:
    """The console script runs from the wheel alone: it loads the function's ``user_attributes``
    from the wheel's ``lambda_asset`` and gets as far as the (closed) endpoint."""
    command = fresh_python.parent / "seed-users"
    arguments = [str(command), "status", "--ledger-table", "ledger", "--region", "eu-west-1"]
    result = subprocess.run(
        [*arguments, "--endpoint-url", "http://127.0.0.1:9"],
        cwd=fresh_python.parent,
        env={
            "PATH": os.environ["PATH"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("seed-users: error: ")
    assert "cannot reach AWS at http://127.0.0.1:9" in line


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_consumer_from_the_wheel_declares_its_custom_resources_and_asset(
    name: str, wheel_synths: dict[str, dict[str, Any]]
) -> None:
    facts = wheel_synths[name]
    resources = facts["custom_resources"]
    assert len(resources) == CUSTOM_RESOURCES[name]
    for resource in resources:
        assert {"ServiceToken", "UserPoolId", "Username", "UserAttributes"} <= set(
            resource["properties"]
        )
    handlers = sorted(function["handler"] for function in facts["functions"])
    assert handlers == ["dead_letters.handler", "front.handler", "worker.handler"]
    [asset_hash] = {function["asset_hash"] for function in facts["functions"]}
    files = set(facts["asset_files"][asset_hash])
    assert {"index.py", "front.py", "worker.py", "dead_letters.py"} <= files
    assert {"crhelper/__init__.py", "user_attributes/lifecycle.py"} <= files
    assert not [file for file in files if "__pycache__" in file or file.endswith(".pyc")]


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_consumer_from_the_wheel_is_clean_under_cdk_nag_aws_solutions(
    name: str, wheel_synths: dict[str, dict[str, Any]]
) -> None:
    nag = wheel_synths[name]["nag"]
    assert nag["plugins"] == ["AwsSolutions"]
    assert nag["violations"] == []
    # The provider's own accepted findings, acknowledged by the construct with their reasons.
    assert nag["acknowledged"]


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_wheel_and_checkout_give_the_same_asset_hash(
    name: str,
    wheel_synths: dict[str, dict[str, Any]],
    checkout_synths: dict[str, dict[str, Any]],
) -> None:
    assert Path(checkout_synths[name]["library"]).is_relative_to(REPO)
    wheel = {function["asset_hash"] for function in wheel_synths[name]["functions"]}
    checkout = {function["asset_hash"] for function in checkout_synths[name]["functions"]}
    assert len(wheel) == 1
    assert wheel == checkout
    FIGURES["asset hash"] = next(iter(wheel))


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_service_token_and_provider_logical_ids_are_the_same_from_wheel_and_checkout(
    name: str,
    wheel_synths: dict[str, dict[str, Any]],
    checkout_synths: dict[str, dict[str, Any]],
) -> None:
    def tokens(facts: dict[str, Any]) -> dict[str, Any]:
        return {r["logical_id"]: r["service_token"] for r in facts["custom_resources"]}

    def functions(facts: dict[str, Any]) -> dict[str, str]:
        return {f["handler"]: f["logical_id"] for f in facts["functions"]}

    assert tokens(wheel_synths[name]) == tokens(checkout_synths[name])
    assert functions(wheel_synths[name]) == functions(checkout_synths[name])
    front = functions(wheel_synths[name])["front.handler"]
    for token in tokens(wheel_synths[name]).values():
        assert token == {"Fn::GetAtt": [front, "Arn"]}
