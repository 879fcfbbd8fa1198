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
WHEEL_TAG = "cp312-cp312-manylinux"
EXTENSION_SUFFIX = ".cpython-312-aarch64-linux-gnu.so"


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
    compiled = site / f"{extension}{EXTENSION_SUFFIX}"
    assert compiled.is_file(), f"missing {compiled.relative_to(site)}"
    assert _elf_machine(compiled) == EM_AARCH64
    tags = _wheel_tags(site, distribution)
    assert tags and all(tag.startswith(WHEEL_TAG) and tag.endswith("_aarch64") for tag in tags), tags


def test_layer_has_no_binary_for_another_platform_or_python(dev: Synth) -> None:
    site = _layer_asset(dev) / "python"
    extensions = [p for p in site.rglob("*.so") if ".cpython-" in p.name]
    assert len(extensions) > 5
    wrong = [p.name for p in extensions if not p.name.endswith(EXTENSION_SUFFIX)]
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
    package = source / "python" / "mostrador"
    package.mkdir()
    (package / "__init__.py").write_text('"""v1"""\n')
    v1 = build_layer(LAYER_TARGET, source=source)
    (package / "__init__.py").write_text('"""v2"""\n')
    v2 = build_layer(LAYER_TARGET, source=source)
    assert v1.content_hash != v2.content_hash
    assert v1.path.parent == v2.path.parent == BUILD_ROOT
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


def test_the_layer_holds_exactly_the_locked_runtime_distributions(dev: Synth) -> None:
    """uv.lock drives the layer: every runtime pin for Lambda's platform is there at its version, nothing else."""
    from packaging.utils import canonicalize_name

    from infra.functions import LAYER_TARGET
    from infra.layer_build import runtime_pins

    site = _layer_asset(dev) / "python"
    installed = {}
    for dist_info in site.glob("*.dist-info"):
        metadata = (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
        fields = dict(line.split(": ", 1) for line in metadata.splitlines()[:10] if ": " in line)
        installed[canonicalize_name(fields["Name"])] = fields["Version"]
    locked = {canonicalize_name(pin.name): pin.version for pin in runtime_pins(LAYER_TARGET)}
    assert installed == locked
    assert dev.stack.functions.built_layer.pins == tuple(runtime_pins(LAYER_TARGET))


def test_a_file_whose_hash_is_not_in_the_lock_is_refused(tmp_path: Path) -> None:
    from infra.functions import LAYER_TARGET
    from infra.layer_build import Pin, _pip_install, runtime_pins

    (pin,) = [p for p in runtime_pins(LAYER_TARGET) if p.name == "annotated-types"]
    forged = Pin(pin.name, pin.version, ("sha256:" + "0" * 64,))
    with pytest.raises(RuntimeError, match="(?i)hash"):
        _pip_install([forged], LAYER_TARGET, tmp_path / "python")
    _pip_install([pin], LAYER_TARGET, tmp_path / "ok" / "python")
    assert list((tmp_path / "ok" / "python").glob("annotated_types-*.dist-info"))


def test_every_deployed_function_exposes_the_entry_point_the_stack_names() -> None:
    import importlib

    from infra.functions import FUNCTIONS, MIGRATE

    for spec in (*FUNCTIONS, MIGRATE):
        module = importlib.import_module(f"functions.{spec.name}.handler")
        assert callable(getattr(module, "handler", None)), f"functions/{spec.name}/handler.py needs handler()"
