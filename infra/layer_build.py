"""Builds the shared Lambda layer for the Lambda platform from uv.lock, without Docker.

The lock (uv.lock, made by `make lock`) also drives the test environment (`make install`), so the layer
holds exactly the versions the suite ran against, each checked against the lock's sha256 hashes:

1. `uv export` lists the runtime dependencies ([project.dependencies] and what they pull in) with their
   pins, hashes and environment markers. It refuses a lock that no longer matches pyproject.toml.
2. The markers are evaluated here for Lambda (Linux, the runtime's CPython, the function architecture).
   pip cannot do that step: with `--platform` it still evaluates markers for the machine it runs on.
3. pip installs the pins with `--no-deps --require-hashes --only-binary=:all: --platform manylinux…`,
   so the wheels are the ones Lambda would pick, whatever machine runs `cdk synth`.

The dependency install is cached under .build/ by a hash of the pins and the target; the mostrador
package is then laid next to it (hard links, so a code change costs milliseconds, not a new 150 MB copy).
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
LOCK_FILE = REPO_ROOT / "uv.lock"
BUILD_ROOT = REPO_ROOT / ".build" / "layer"

# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so any manylinux wheel up to
# 2.34 runs there. pip only takes the platform tags it is given, hence the list (numpy, for one,
# publishes manylinux_2_28 wheels only).
_GLIBC_TAGS = ("manylinux2014", "manylinux_2_28", "manylinux_2_34")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


class LockError(RuntimeError):
    """uv.lock cannot be read or no longer matches pyproject.toml; the message says what to run."""


@dataclass(frozen=True)
class LayerTarget:
    """What the layer is built for: `python_version` like "3.12", `machine` "aarch64" or "x86_64"."""

    python_version: str
    machine: str = "aarch64"

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(f"{tag}_{self.machine}" for tag in _GLIBC_TAGS)

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values on Lambda. The patch level is set high because AWS keeps each runtime on
        its newest patch release, so a marker like `python_full_version < '3.12.4'` is false there."""
        full_version = f"{self.python_version}.99"
        return {
            "implementation_name": "cpython",
            "implementation_version": full_version,
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": full_version,
            "python_version": self.python_version,
            "sys_platform": "linux",
            "extra": "",
        }


@dataclass(frozen=True)
class Pin:
    """One locked distribution: exact version and the sha256 hashes of the files uv.lock accepts."""

    name: str
    version: str
    hashes: tuple[str, ...]

    def requirement_line(self) -> str:
        return " ".join([f"{self.name}=={self.version}", *(f"--hash={h}" for h in self.hashes)])


@dataclass(frozen=True)
class BuiltLayer:
    path: Path  # the asset directory: holds python/ (Lambda puts /opt/python on sys.path)
    content_hash: str  # stable for identical inputs; used as the CDK asset hash
    pins: tuple[Pin, ...] = ()  # what was installed, from the lock


def _uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise LockError("uv is not installed: run `make install` (it installs uv into .venv)")
    return found


def export_lock(lock: Path = LOCK_FILE, *, extras: tuple[str, ...] = ()) -> str:
    """The lock as requirements.txt text (pins, hashes, markers) for the runtime dependencies plus `extras`.

    `--locked` makes uv refuse a lock that pyproject.toml has moved away from; `--offline` because reading
    a lock needs no index.
    """
    if not lock.is_file():
        raise LockError(f"{lock} is missing: run `make lock`")
    command = [_uv(), "export", "--locked", "--offline", "--quiet", "--no-emit-project", "--no-header"]
    command += ["--no-annotate", "--format", "requirements.txt"]
    for extra in extras:
        command += ["--extra", extra]
    result = subprocess.run(
        command,
        cwd=lock.parent,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PYTHON": sys.executable},
    )
    if result.returncode != 0:
        raise LockError(
            f"{lock.name} does not match {lock.parent / 'pyproject.toml'} (or cannot be read): run `make lock` "
            f"and commit {lock.name}.\n{result.stderr.strip()}"
        )
    return result.stdout


def pins_for(target: LayerTarget, exported: str) -> list[Pin]:
    """The pins of an exported lock that apply on `target` (markers evaluated for it, not for this machine)."""
    from packaging.requirements import Requirement

    logical = exported.replace("\\\n", " ")
    pins = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, *hash_parts = line.split("--hash=")
        requirement = Requirement(spec.strip())
        if requirement.marker is not None and not requirement.marker.evaluate(target.marker_environment()):
            continue
        (specifier,) = requirement.specifier
        if specifier.operator != "==" or not hash_parts:
            raise LockError(f"not a pinned, hashed requirement in the exported lock: {line}")
        pins.append(Pin(requirement.name, specifier.version, tuple(part.strip() for part in hash_parts)))
    return pins


def runtime_pins(target: LayerTarget, lock: Path = LOCK_FILE) -> list[Pin]:
    return pins_for(target, export_lock(lock))


def _dependencies_hash(pins: list[Pin], target: LayerTarget) -> str:
    digest = hashlib.sha256()
    digest.update(f"{target.python_version}|{target.machine}|{_GLIBC_TAGS}".encode())
    for pin in pins:
        digest.update(pin.requirement_line().encode() + b"\n")
    return digest.hexdigest()[:20]


def _pip_install(pins: list[Pin], target: LayerTarget, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    requirements = destination.parent / "requirements.txt"
    requirements.write_text("".join(pin.requirement_line() + "\n" for pin in pins))
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
        # The lock already holds the whole tree, markers resolved for the target above.
        "--no-deps",
        "--require-hashes",
        "--target",
        str(destination),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            "Building the Lambda layer failed (pip needs access to the package index on the first build).\n"
            f"command: {' '.join(command)}\n{result.stdout}\n{result.stderr}"
        )


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _dependencies(pins: list[Pin], target: LayerTarget, build_root: Path) -> Path:
    """The cached pip install (a directory holding python/), built once per input hash."""
    folder = build_root / f"deps-{target.abi}-{target.machine}-{_dependencies_hash(pins, target)}"
    if (folder / ".complete").exists():
        return folder
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=build_root))
    try:
        _pip_install(pins, target, staging / "python")
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
    lock: Path = LOCK_FILE,
) -> BuiltLayer:
    """Locked dependencies for `target` plus the mostrador package, in a directory ready for Code.from_asset."""
    package = source / "python" / "mostrador"
    pins = runtime_pins(target, lock)
    deps = _dependencies(pins, target, build_root)

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
    return BuiltLayer(path=folder, content_hash=content_hash, pins=tuple(pins))


def _hash_tree(digest: hashlib._Hash, root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")


def _prune_old_layers(build_root: Path, keep: Path, retain: int = 3) -> None:
    """Every code change makes a new layer directory (hard links, so cheap); keep only the newest few."""
    layers = sorted(
        (p for p in build_root.glob("layer-*") if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in layers[retain:]:
        shutil.rmtree(old, ignore_errors=True)
