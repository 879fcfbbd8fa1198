"""Builds the shared Lambda layer for the Lambda platform without Docker.

pip installs the runtime dependencies with `--platform manylinux…_aarch64 --only-binary=:all:` for the
runtime's CPython, so the wheels are the ones Lambda would pick, whatever machine runs `cdk synth`.
The dependency install is cached under .build/ by a hash of its inputs (requirements, runtime, platform);
the mostrador package is then laid next to it (hard links, so a code change costs milliseconds, not a
new 150 MB copy). Only the first synth on a machine needs network access to PyPI.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = REPO_ROOT / "layers" / "shared"
BUILD_ROOT = REPO_ROOT / ".build" / "layer"

# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so any manylinux wheel up to
# 2.34 runs there. pip only takes the platform tags it is given, hence the list (numpy, for one,
# publishes manylinux_2_28 wheels only).
_GLIBC_TAGS = ("manylinux2014", "manylinux_2_28", "manylinux_2_34")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


@dataclass(frozen=True)
class LayerTarget:
    """What the layer is built for: `python_version` like "3.14", `machine` "aarch64" or "x86_64"."""

    python_version: str
    machine: str = "aarch64"

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(f"{tag}_{self.machine}" for tag in _GLIBC_TAGS)

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")


@dataclass(frozen=True)
class BuiltLayer:
    path: Path  # the asset directory: holds python/ (Lambda puts /opt/python on sys.path)
    content_hash: str  # stable for identical inputs; used as the CDK asset hash


def _hash_tree(digest: hashlib._Hash, root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")


def _dependencies_hash(requirements: Path, target: LayerTarget) -> str:
    digest = hashlib.sha256()
    digest.update(f"{target.python_version}|{target.machine}|{_GLIBC_TAGS}".encode())
    digest.update(requirements.read_bytes())
    return digest.hexdigest()[:20]


def _pip_install(requirements: Path, target: LayerTarget, destination: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    for platform in target.platforms:
        command += ["--platform", platform]
    command += [
        "--implementation",
        "cp",
        "--python-version",
        target.python_version,
        "--abi",
        target.abi,
        "--only-binary=:all:",
        "--target",
        str(destination),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            "Building the Lambda layer failed (pip needs network access to PyPI on the first build).\n"
            f"command: {' '.join(command)}\n{result.stdout}\n{result.stderr}"
        )


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _dependencies(requirements: Path, target: LayerTarget, build_root: Path) -> Path:
    """The cached pip install (a directory holding python/), built once per input hash."""
    folder = build_root / f"deps-{target.abi}-{target.machine}-{_dependencies_hash(requirements, target)}"
    if (folder / ".complete").exists():
        return folder
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=build_root))
    try:
        _pip_install(requirements, target, staging / "python")
        # Wheel metadata is kept (tests and auditors read the tags); executables meant for a shell are not.
        shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
        (staging / ".complete").write_text("ok\n")
        try:
            staging.rename(folder)  # atomic: a concurrent build that finished first wins
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def build_layer(
    target: LayerTarget,
    source: Path = LAYER_SOURCE,
    build_root: Path = BUILD_ROOT,
) -> BuiltLayer:
    """Dependencies for `target` plus the mostrador package, in a directory ready for Code.from_asset."""
    requirements = source / "requirements.txt"
    package = source / "python" / "mostrador"
    deps = _dependencies(requirements, target, build_root)

    digest = hashlib.sha256(deps.name.encode())
    _hash_tree(digest, package)
    content_hash = digest.hexdigest()[:24]
    folder = build_root / f"layer-{content_hash}"
    if not (folder / ".complete").exists():
        staging = Path(tempfile.mkdtemp(prefix="layer-", dir=build_root))
        try:
            shutil.copytree(deps / "python", staging / "python", copy_function=_link_or_copy, dirs_exist_ok=True)
            shutil.copytree(package, staging / "python" / "mostrador", ignore=_IGNORED)
            (staging / ".complete").write_text("ok\n")
            try:
                staging.rename(folder)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _prune_old_layers(build_root, keep=folder)
    return BuiltLayer(path=folder, content_hash=content_hash)


def _prune_old_layers(build_root: Path, keep: Path, retain: int = 3) -> None:
    """Every code change makes a new layer directory (hard links, so cheap); keep only the newest few."""
    layers = sorted(
        (p for p in build_root.glob("layer-*") if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in layers[retain:]:
        shutil.rmtree(old, ignore_errors=True)
