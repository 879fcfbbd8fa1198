"""One lock (uv.lock) drives the test environment and the Lambda layer, and the suite runs on Lambda's Python.

Fast checks, no synth: the lock agrees with pyproject.toml, it has binary wheels for every runtime package
where the code runs (Lambda: CPython 3.12 on arm64 Linux; tests: 3.11/3.12 on x86_64 and arm64 Linux), and
this very environment was installed from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from tests.infra.conftest import REPO_ROOT

UV = Path(sys.executable).parent / "uv"


def test_the_lock_agrees_with_pyproject() -> None:
    """Fails when a dependency was added or changed in pyproject.toml without `make lock`."""
    assert UV.is_file(), "uv is missing from the venv: run `make install`"
    result = subprocess.run(
        [str(UV), "lock", "--check", "--offline", "--quiet"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PYTHON": sys.executable},
    )
    assert result.returncode == 0, (
        "pyproject.toml and uv.lock disagree: run `make lock` and commit uv.lock.\n" + result.stderr
    )


def _locked_wheels() -> dict[tuple[str, str], list[str]]:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    return {
        (package["name"], package["version"]): [wheel["url"].rsplit("/", 1)[1] for wheel in package.get("wheels", [])]
        for package in lock["package"]
        if "version" in package
    }


@pytest.mark.parametrize(
    ("python_version", "machine"),
    [("3.12", "aarch64"), ("3.11", "aarch64"), ("3.12", "x86_64"), ("3.11", "x86_64")],
)
def test_every_runtime_package_has_a_binary_wheel_for(python_version: str, machine: str) -> None:
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename

    from infra.layer_build import LayerTarget, export_lock, pins_for

    target = LayerTarget(python_version=python_version, machine=machine)
    version = tuple(int(part) for part in python_version.split("."))
    platforms = list(target.platforms) + ["linux_" + machine]
    accepted = set(cpython_tags(version, [target.abi, "abi3", "none"], platforms))
    accepted |= set(compatible_tags(version, target.abi, platforms))
    wheels = {(canonicalize_name(name), v): files for (name, v), files in _locked_wheels().items()}
    missing = []
    for pin in pins_for(target, export_lock()):
        files = wheels[(canonicalize_name(pin.name), pin.version)]
        if not any(set(parse_wheel_filename(f)[3]) & accepted for f in files):
            missing.append(f"{pin.name}=={pin.version}")
    assert not missing, f"no wheel for CPython {python_version} on {machine} Linux in uv.lock: {missing}"


def test_this_environment_was_installed_from_the_lock() -> None:
    """`make install` installs the lock's pins (hash-checked); the suite runs against exactly those versions."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from infra.layer_build import export_lock

    exported = export_lock(extras=("dev",)).replace("\\\n", " ")
    mismatched = []
    for line in exported.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line.split("--hash=")[0].strip())
        if requirement.marker and not requirement.marker.evaluate({**default_environment(), "extra": ""}):
            continue
        (specifier,) = requirement.specifier
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or canonicalize_name(installed) != canonicalize_name(specifier.version):
            mismatched.append(f"{requirement.name}: locked {specifier.version}, installed {installed}")
    assert not mismatched, "run `make install` (the venv is not what uv.lock says):\n" + "\n".join(mismatched)


def test_the_suite_runs_on_the_lambda_runtimes_python() -> None:
    """Lambda runs infra.functions.RUNTIME; `make install` builds the venv with that Python wherever it exists.

    On a machine that has only 3.11 the suite still runs, and this test is skipped with a reason that -ra
    (pytest's addopts) prints in the summary: the runtime's version was NOT checked. Nothing else would
    say so: CI (.ci/run) runs `make test` on whatever Python the machine has. Where 3.12 exists, a venv on
    another version is an error: what is deployed would not be what is tested.
    """
    from infra import functions

    _check_the_runtimes_python(functions.LAYER_TARGET.python_version)


def test_without_the_runtimes_python_the_skip_says_the_runtime_version_was_not_checked() -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        _check_the_runtimes_python("3.99")  # a Lambda runtime no machine here has
    reason = str(skipped.value)
    assert reason.startswith("NOT CHECKED: Lambda's Python 3.99") and "was not tested" in reason, reason


def _check_the_runtimes_python(runtime_version: str) -> None:
    running = "{}.{}".format(*sys.version_info[:2])
    if running == runtime_version:
        return
    chosen = subprocess.run(
        ["make", "-s", "python-path"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    chosen_version = (
        subprocess.run(
            [chosen, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if chosen
        else ""
    )
    assert chosen_version != runtime_version, (
        f"The suite runs on Python {running}, but Lambda runs {runtime_version}, which is installed "
        f"here ({chosen}): run `make clean install` to rebuild the venv with it."
    )
    pytest.skip(
        f"NOT CHECKED: Lambda's Python {runtime_version} is not installed on this machine, so the suite ran on "
        f"{running} and the deployed runtime's Python version was not tested here. Install Python "
        f"{runtime_version} and run `make clean install test` (docs/deploy.md, 'Python version')."
    )


def test_every_folder_of_the_installed_packages_is_listed_so_its_files_ship_without_warnings() -> None:
    """setuptools warns "Package would be ignored" (BuildBackendWarning) at `make install` for a folder of
    files it can import but `packages` does not list; listed, its files ship through package-data."""
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {name: REPO_ROOT / path for name, path in setuptools["package-dir"].items()}
    listed = set(setuptools["packages"])
    for name, root in roots.items():
        folders = [root, *(p for p in root.rglob("*") if p.is_dir() and p.name != "__pycache__")]
        for folder in folders:
            if not any(child.is_file() and child.suffix != ".pyc" for child in folder.iterdir()):
                continue
            package = ".".join([name, *folder.relative_to(root).parts])
            assert package in listed, f"{package} ({folder}) is missing from [tool.setuptools] packages"
            files = [child for child in folder.iterdir() if child.is_file() and child.suffix != ".pyc"]
            if not any(child.suffix == ".py" for child in files):  # a data folder: all of it ships
                patterns = setuptools["package-data"].get(package, [])
                for child in files:
                    assert any(child.match(pattern) for pattern in patterns), f"{child} is not in package-data"
