"""CDK entry point (cdk.json runs `.venv/bin/python infra/app.py`).

    npx aws-cdk@2 deploy -c stage=prod -c llmProvider=openai

Context keys and their defaults: infra/settings.py and docs/deploy.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii's Node runtime warns loudly about Node versions on every run; the app works the same.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `infra` importable

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.functions import FUNCTIONS_DIR  # noqa: E402
from infra.settings import settings_from_context  # noqa: E402
from infra.stack import MostradorStack  # noqa: E402


def build_app(app: cdk.App, functions_dir: Path = FUNCTIONS_DIR) -> MostradorStack:
    """Add the stack (and the cdk-nag checks) to `app`; tests call this with their own App."""
    settings = settings_from_context(app.node.get_all_context())
    stack = MostradorStack(
        app,
        f"Mostrador-{settings.stage}",
        settings=settings,
        functions_dir=functions_dir,
        description=f"Mostrador ({settings.stage}): AI sales and support assistant",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    cdk.Tags.of(stack).add("project", "mostrador")
    cdk.Tags.of(stack).add("stage", settings.stage)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack


def main() -> None:
    app = cdk.App()
    build_app(app)
    app.synth()


if __name__ == "__main__":
    main()
