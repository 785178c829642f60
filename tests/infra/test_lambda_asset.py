"""The provider's code asset: built locally (no Docker), self-contained, pinned."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, DockerImage, Stack
from aws_cdk import aws_cognito as cognito

from cognito_seed_users import CognitoUserAttributes
from cognito_seed_users.function_asset import (
    CHECKOUT_LAMBDA_DIR,
    BundlingError,
    pinned_requirements,
)
from cognito_seed_users.lambda_bundle import LocalPythonBundler
from tests.infra.support import POOL_ID, asset_dir, cdk_app


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app: App = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    stack = Stack(app, "AssetStack")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "CiBot", user_pool=pool, username="ci-bot", attributes={"locale": "en-GB"}
    )
    return asset_dir(app, stack)


def bundle(source: Path, requirements: Path, output: Path) -> bool:
    bundler = LocalPythonBundler(source=source, requirements=requirements)
    return bundler.try_bundle(str(output), image=DockerImage.from_registry("unused"))


def test_asset_holds_the_handler_package_and_crhelper(bundled: Path) -> None:
    assert (bundled / "user_attributes" / "properties.py").is_file()
    assert (bundled / "crhelper" / "__init__.py").is_file()
    if (CHECKOUT_LAMBDA_DIR / "index.py").exists():
        assert (bundled / "index.py").is_file()


def test_asset_has_no_bytecode_or_tests(bundled: Path) -> None:
    assert not [path for path in bundled.rglob("*") if path.name in {"__pycache__", "tests"}]
    assert not list(bundled.rglob("*.pyc"))


def lambda_runtime(directory: Path) -> Path:
    """A directory holding only what the Lambda Python runtime provides: boto3 and its deps."""
    directory.mkdir()
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"):
        spec = importlib.util.find_spec(name)
        assert spec is not None
        assert spec.origin is not None
        origin = Path(spec.origin)
        installed = origin.parent if spec.submodule_search_locations else origin
        (directory / installed.name).symlink_to(installed)
    return directory


def test_crhelper_imports_from_the_asset_with_only_the_lambda_runtime(
    bundled: Path, tmp_path: Path
) -> None:
    # -S: no site-packages; only the asset and what Lambda itself provides are importable.
    runtime = lambda_runtime(tmp_path / "runtime")
    result = subprocess.run(
        [sys.executable, "-S", "-c", "import crhelper; print(crhelper.__file__)"],
        env={"PYTHONPATH": f"{bundled}:{runtime}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(bundled)


def test_requirements_pin_crhelper() -> None:
    assert "crhelper" in pinned_requirements(CHECKOUT_LAMBDA_DIR / "requirements.txt")


def test_bundler_refuses_a_pin_that_differs_from_the_installed_version(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("crhelper==0.0.1\n", encoding="utf-8")
    with pytest.raises(BundlingError, match=r"crhelper .* is installed but .* pins 0\.0\.1"):
        bundle(CHECKOUT_LAMBDA_DIR, requirements, tmp_path / "out")


@pytest.mark.parametrize("line", ["crhelper>=2", "crhelper", "-r other.txt"])
def test_bundler_refuses_an_unpinned_requirement(tmp_path: Path, line: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"# runtime\n{line}\n", encoding="utf-8")
    with pytest.raises(BundlingError, match=r"requirements.txt line 2: pin each Lambda dependency"):
        bundle(CHECKOUT_LAMBDA_DIR, requirements, tmp_path / "out")


def test_bundler_refuses_a_pinned_package_that_is_not_installed(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("no-such-package-xyz==1.0\n", encoding="utf-8")
    with pytest.raises(BundlingError, match="not installed here"):
        bundle(CHECKOUT_LAMBDA_DIR, requirements, tmp_path / "out")


def test_bundler_skips_bytecode_tests_and_hidden_directories(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for relative in (
        "index.py",
        "pkg/module.py",
        "pkg/__pycache__/module.cpython-313.pyc",
        "tests/test_index.py",
        ".pytest_cache/README.md",
    ):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text("", encoding="utf-8")
    requirements = source / "requirements.txt"
    requirements.write_text("", encoding="utf-8")
    output = tmp_path / "out"
    assert bundle(source, requirements, output) is True
    files = sorted(str(path.relative_to(output)) for path in output.rglob("*") if path.is_file())
    assert files == ["index.py", "pkg/module.py", "requirements.txt"]
