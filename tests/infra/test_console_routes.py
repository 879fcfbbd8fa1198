"""The admin console's routes on the synthesized REST API (infra/console.py)."""

from __future__ import annotations

import json

from tests.infra.conftest import Synth
from tests.infra.test_stack import _routes


def test_the_console_and_the_seed_003_export_route_reach_the_admin_function(dev: Synth) -> None:
    routes = _routes(dev)
    for path in ("/console", "/console/{proxy+}", "/api/v1/export/conversations"):
        assert routes.get(("GET", path)) == "admin", path
    # Only GET: the page and the export are read, nothing else is served there.
    assert not [key for key in routes if key[1].startswith(("/console", "/api/v1")) and key[0] != "GET"]
    assert routes[("POST", "/api/receive-products")] == "ingest"  # the NamDamasco alias is untouched


def test_the_console_url_is_an_output(dev: Synth) -> None:
    assert "/console" in json.dumps(dev.template["Outputs"]["ConsoleUrl"]["Value"])
