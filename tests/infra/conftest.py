"""Synthesizes the CDK app once per session per context (the layer build is cached under .build/)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints a banner about the Node.js version on every start; it changes nothing for synth.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

REPO_ROOT = Path(__file__).resolve().parents[2]

# Values a careless stack could copy from the deployer's environment into the template.
SECRET_VALUES = {
    "OPENAI_API_KEY": "sk-test-0penai-NEVER-IN-TEMPLATE-7c1d",
    "GEMINI_API_KEY": "AIzaTestGeminiNeverInTemplate93f0",
    "META_APP_SECRET": "meta-app-secret-never-in-template-55aa",
    "META_VERIFY_TOKEN": "verify-token-never-in-template-8812",
    "WHATSAPP_TOKEN": "EAAGwhatsappNeverInTemplate0042",
    "MESSENGER_PAGE_TOKEN": "EAAGmessengerNeverInTemplate9931",
    "SUPPORT_BOARD_API_TOKEN": "sb-api-never-in-template-1234",
    "SUPPORT_BOARD_WEBHOOK_SECRET": "sb-hook-never-in-template-5678",
    "INGEST_API_KEY": "ingest-key-never-in-template-abcd",
    "ADMIN_TOKEN": "admin-token-never-in-template-efgh",
    "DATABASE_URL": "postgresql://mostrador:pw-never-in-template@db:5432/mostrador",
}

DEV_CONTEXT = {"stage": "dev"}
# What an operator adds to infra/stages/prod.toml, passed as -c here; dbMultiAz and dbDeletionProtection are
# left to the committed file on purpose (a forgotten flag must not revert them).
PROD_CONTEXT = {
    "stage": "prod",
    "natMode": "instance",
    "alarmEmail": "ops@example.com",
    "llmProvider": "gemini",
    "whatsappPhoneNumberId": "1098765",
    "metaAppId": "",
    "supportBoardApiUrl": "",
    "supportBoardMediaHosts": "uploads-bucket.s3.amazonaws.com",
    "webchatAllowedOrigins": "",
    "tenantId": "t1",
    "escalationEmailFrom": "avisos@tienda.example",  # dev leaves it unset: no SES permission there
}


@dataclass
class Synth:
    stack: Any  # infra.stack.MostradorStack
    template: dict[str, Any]
    assertions: Any  # aws_cdk.assertions.Template
    errors: list[str]  # cdk-nag (and other) error annotations
    warnings: list[str]
    outdir: Path
    nag_report: list[dict[str, str]]  # cdk-nag's CSV report: one row per rule and resource checked

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    def construct_paths(self) -> dict[str, str]:
        """Logical id -> construct path (what cdk-nag's report names a resource by)."""
        import aws_cdk as cdk

        return {
            self.stack.resolve(child.logical_id): child.node.path
            for child in self.stack.node.find_all()
            if isinstance(child, cdk.CfnResource)
        }

    def functions(self) -> dict[str, dict[str, Any]]:
        """Our functions by short name (mostrador-<stage>-<name>), not CDK's provider functions."""
        prefix = f"mostrador-{self.stack.settings.stage}-"
        found = {}
        for logical_id, resource in self.resources("AWS::Lambda::Function").items():
            name = resource["Properties"].get("FunctionName", "")
            if isinstance(name, str) and name.startswith(prefix):
                found[name.removeprefix(prefix)] = {"logical_id": logical_id, **resource}
        return found


@pytest.fixture(scope="session")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real functions/ directory, with stand-ins only for handlers other engineers have not landed yet.

    The stack refuses to synthesize without every handler (test_missing_handler_is_refused); the
    stand-ins let the infrastructure be checked meanwhile, and a warning names them.
    """
    from infra.functions import FUNCTIONS, MIGRATE

    root = tmp_path_factory.mktemp("functions")
    stand_ins = []
    for spec in (*FUNCTIONS, MIGRATE):
        real = REPO_ROOT / "functions" / spec.name
        if (real / "handler.py").is_file():
            (root / spec.name).symlink_to(real, target_is_directory=True)
        else:
            (root / spec.name).mkdir()
            (root / spec.name / "handler.py").write_text(
                "def handler(event, context):\n    raise NotImplementedError\n"
            )
            stand_ins.append(spec.name)
    if stand_ins:
        warnings.warn(f"functions not written yet, synthesized with stand-ins: {stand_ins}", stacklevel=1)
    return root


@pytest.fixture(scope="session")
def synth_with(tmp_path_factory: pytest.TempPathFactory, functions_dir: Path) -> Iterator[Callable[..., Synth]]:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.app import build_app

    flags = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    cache: dict[str, Synth] = {}
    outdirs: list[Path] = []

    def synth(context: dict[str, str]) -> Synth:
        key = json.dumps(context, sort_keys=True)
        if key in cache:
            return cache[key]
        outdir = tmp_path_factory.mktemp("cdkout")
        outdirs.append(outdir)
        saved = {name: os.environ.get(name) for name in SECRET_VALUES}
        os.environ.update(SECRET_VALUES)
        try:
            # Assets are referenced where they were built instead of copied into cdk.out (the layer is ~160 MB);
            # the asset manifest still says exactly which directory a deploy would zip and upload.
            app = cdk.App(context={**flags, "aws:cdk:disable-asset-staging": True, **context}, outdir=str(outdir))
            stack = build_app(app, functions_dir=functions_dir)
            assembly = app.synth()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        artifact = assembly.get_stack_by_name(stack.stack_name)
        errors = [f"{m.id}: {m.entry.data}" for m in artifact.messages if m.level.name == "ERROR"]
        warns = [f"{m.id}: {m.entry.data}" for m in artifact.messages if m.level.name == "WARNING"]
        template = json.loads((outdir / artifact.template_file).read_text())
        (report_file,) = outdir.glob(f"AwsSolutions-*{stack.stack_name}-NagReport.csv")
        with report_file.open(newline="") as handle:
            report = list(csv.DictReader(handle))
        cache[key] = Synth(stack, template, Template.from_json(template), errors, warns, outdir, report)
        return cache[key]

    yield synth
    for outdir in outdirs:
        shutil.rmtree(outdir, ignore_errors=True)


@pytest.fixture(scope="session")
def dev(synth_with: Callable[..., Synth]) -> Synth:
    return synth_with(DEV_CONTEXT)


@pytest.fixture(scope="session")
def prod(synth_with: Callable[..., Synth]) -> Synth:
    return synth_with(PROD_CONTEXT)
