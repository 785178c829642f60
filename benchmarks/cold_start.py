"""Benchmark 3: cold start, as a fresh interpreter importing the handler module from the built
Lambda asset, against a bare ``import boto3`` in the same interpreter.

``index.py`` builds its clients and helper on the first event, so importing it costs only its
modules (boto3 comes with the Lambda runtime; crhelper and ``user_attributes`` come from the
asset). Lambda's ``/var/task`` is read-only, so the asset's own modules are compiled from source
on every cold start: that is the figure that counts (``-B``, no ``__pycache__``). The figure
with bytecode already cached is shown for comparison. Rounds interleave the variants; medians.

Run: ``.venv/bin/python benchmarks/cold_start.py [--rounds 31]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

TARGET = 1.2


def build_asset(output: Path) -> Path:
    """The asset exactly as ``cdk synth`` stages it (the project's local bundler)."""
    from aws_cdk import DockerImage

    from cognito_seed_users.lambda_bundle import LocalPythonBundler

    bundler = LocalPythonBundler(
        source=harness.LAMBDA_DIR, requirements=harness.LAMBDA_DIR / "requirements.txt"
    )
    bundler.try_bundle(str(output), image=DockerImage.from_registry("unused"))
    return output


def timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(arguments, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args(argv)
    print(harness.machine())
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as work:
        source = build_asset(Path(work) / "asset")
        cached = Path(work) / "asset-cached"
        shutil.copytree(source, cached)
        importer = "import sys; sys.path.insert(0, {!r}); import index"
        variants = {
            "interpreter alone": [python, "-I", "-c", "pass"],
            "import boto3": [python, "-I", "-c", "import boto3"],
            "import index (from source, as on Lambda)": [
                python,
                "-I",
                "-B",
                "-c",
                importer.format(str(source)),
            ],
            "import index (bytecode cached)": [python, "-I", "-c", importer.format(str(cached))],
        }
        subprocess.run(variants["import index (bytecode cached)"], check=True)  # writes .pyc
        assert not list(source.rglob("*.pyc")), "the source variant must compile every time"
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(3):  # warm the OS page cache
            for arguments in variants.values():
                timed(arguments)
        for _ in range(args.rounds):
            order = list(variants)
            random.shuffle(order)
            for name in order:
                samples[name].append(timed(variants[name]))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    boto3_s = medians["import boto3"]
    print(
        f"{args.rounds} rounds, median wall time of a fresh interpreter (Python "
        f"{sys.version.split()[0]}):\n"
    )
    print("| variant | median | ratio to import boto3 |")
    print("| --- | --- | --- |")
    for name, median in medians.items():
        print(f"| {name} | {median * 1000:.0f} ms | {median / boto3_s:.2f} |")
    ratio = medians["import index (from source, as on Lambda)"] / boto3_s
    print(
        f"\ncold start ratio (handler from source / import boto3): {ratio:.2f} (target <= {TARGET})"
    )
    print(f"result: {'PASS' if ratio <= TARGET else 'FAIL'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
