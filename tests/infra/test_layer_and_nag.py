"""The layer asset is built for Lambda's platform (no Docker), and cdk-nag's AwsSolutions pack passes."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

EM_AARCH64 = 183
WHEEL_TAG = "cp314-cp314-manylinux"


def _layer_asset(synth: Synth) -> Path:
    (layer,) = synth.resources("AWS::Lambda::LayerVersion").values()
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    (manifest,) = synth.outdir.glob(f"{synth.stack.stack_name}.assets.json")
    source = json.loads(manifest.read_text())["files"][asset_hash]["source"]
    assert source["packaging"] == "zip"
    path = Path(source["path"])
    path = path if path.is_absolute() else synth.outdir / path
    assert path.is_dir(), f"the layer asset is not at {path}"
    return path


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path.name} is not an ELF shared object"
    assert header[5] == 1, "little-endian"
    return struct.unpack_from("<H", header, 18)[0]


def _wheel_tags(site: Path, distribution: str) -> list[str]:
    (dist_info,) = site.glob(f"{distribution}-*.dist-info")
    return [
        line.split(":", 1)[1].strip()
        for line in (dist_info / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    ]


@pytest.mark.parametrize(
    ("distribution", "extension"),
    [("psycopg_binary", "psycopg_binary/_psycopg"), ("pydantic_core", "pydantic_core/_pydantic_core")],
)
def test_layer_holds_compiled_wheels_for_arm64_and_the_runtimes_python(
    dev: Synth, distribution: str, extension: str
) -> None:
    site = _layer_asset(dev) / "python"
    compiled = site / f"{extension}.cpython-314-aarch64-linux-gnu.so"
    assert compiled.is_file(), f"missing {compiled.relative_to(site)}"
    assert _elf_machine(compiled) == EM_AARCH64
    tags = _wheel_tags(site, distribution)
    assert tags and all(tag.startswith(WHEEL_TAG) and tag.endswith("_aarch64") for tag in tags), tags


def test_layer_has_no_binary_for_another_platform_or_python(dev: Synth) -> None:
    site = _layer_asset(dev) / "python"
    extensions = [p for p in site.rglob("*.so") if ".cpython-" in p.name]
    assert len(extensions) > 5
    wrong = [p.name for p in extensions if not p.name.endswith(".cpython-314-aarch64-linux-gnu.so")]
    assert not wrong


def test_layer_holds_the_mostrador_package_and_its_migrations(dev: Synth) -> None:
    site = _layer_asset(dev) / "python"
    package = site / "mostrador"
    assert (package / "config.py").is_file()
    assert (package / "db" / "migrations" / "001_catalog.sql").is_file()
    assert "CREATE EXTENSION IF NOT EXISTS vector" in (package / "db" / "migrations" / "001_catalog.sql").read_text()
    assert not list(package.rglob("__pycache__"))
    for distribution in ("aws_lambda_powertools", "psycopg", "openai", "google_genai", "boto3", "pgvector"):
        assert list(site.glob(f"{distribution}-*.dist-info")), distribution


def test_layer_build_is_cached_by_its_inputs(tmp_path: Path) -> None:
    from infra.functions import LAYER_TARGET
    from infra.layer_build import BUILD_ROOT, build_layer

    first = build_layer(LAYER_TARGET)  # cached by the session's synth
    again = build_layer(LAYER_TARGET)
    assert first == again

    # A change to the package makes a new layer without reinstalling the dependencies.
    source = tmp_path / "shared"
    (source / "python").mkdir(parents=True)
    (source / "requirements.txt").write_text((BUILD_ROOT.parents[1] / "layers/shared/requirements.txt").read_text())
    package = source / "python" / "mostrador"
    package.mkdir()
    (package / "__init__.py").write_text('"""v1"""\n')
    v1 = build_layer(LAYER_TARGET, source=source)
    (package / "__init__.py").write_text('"""v2"""\n')
    v2 = build_layer(LAYER_TARGET, source=source)
    assert v1.content_hash != v2.content_hash
    assert (v2.path / "python" / "mostrador" / "__init__.py").read_text() == '"""v2"""\n'
    assert next((v2.path / "python" / "pydantic_core").glob("*.so")).is_file()
    for built in (v1, v2):
        shutil.rmtree(built.path)


def test_cdk_nag_aws_solutions_has_no_unsuppressed_errors(dev: Synth, prod: Synth) -> None:
    assert dev.errors == []
    assert prod.errors == []
    # Unvalidated rules would hide problems: nag reports them as warnings.
    assert not [w for w in dev.warnings + prod.warnings if "CdkNagValidationFailure" in w]


def test_every_nag_suppression_carries_a_reason(dev: Synth, prod: Synth) -> None:
    count = 0
    for synth in (dev, prod):
        for resource in synth.template["Resources"].values():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                count += 1
                assert len(rule["reason"]) >= 40, rule
    assert count >= 10


def test_cdk_nag_would_catch_an_insecure_resource(tmp_path: Path) -> None:
    """The harness reports errors: an unencrypted queue without a DLQ in a throwaway app is flagged."""
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Insecure")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    artifact = app.synth().get_stack_by_name("Insecure")
    errors = [str(m.entry.data) for m in artifact.messages if m.level.name == "ERROR"]
    assert any("AwsSolutions-SQS3" in e for e in errors)
    assert any("AwsSolutions-SQS4" in e for e in errors)


def test_missing_handler_is_refused(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra.app import build_app

    (tmp_path / "webhook").mkdir()
    (tmp_path / "webhook" / "handler.py").write_text("def handler(event, context):\n    return None\n")
    with pytest.raises(FileNotFoundError, match=r"No handler for ingest, .*enrich, reply, .*migrate"):
        build_app(cdk.App(outdir=str(tmp_path / "out")), functions_dir=tmp_path)


def test_the_layer_requirements_mirror_the_package_dependencies() -> None:
    import tomllib

    from tests.infra.conftest import REPO_ROOT

    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (REPO_ROOT / "layers/shared/requirements.txt").read_text().splitlines()
    layer = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(layer) == sorted(d.split("#")[0].strip() for d in declared)


def test_every_deployed_function_exposes_the_entry_point_the_stack_names() -> None:
    import importlib

    from infra.functions import FUNCTIONS, MIGRATE

    for spec in (*FUNCTIONS, MIGRATE):
        module = importlib.import_module(f"functions.{spec.name}.handler")
        assert callable(getattr(module, "handler", None)), f"functions/{spec.name}/handler.py needs handler()"
