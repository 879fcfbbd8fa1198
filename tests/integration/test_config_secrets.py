"""Settings from Secrets Manager as deployed: the operator's secret, the generated ingest key, the DB role.

The stack freezes the app secret's first value (tests/infra/test_deploy_safety.py), so a key added to
mostrador.config later is absent from deployed secrets until an operator adds it: that must read as unset.
"""

from __future__ import annotations

import json


def _secret(client, name: str, value: dict[str, str]) -> str:
    return client.create_secret(Name=f"mostrador-test/{name}", SecretString=json.dumps(value))["ARN"]


def test_settings_read_both_secrets_and_tolerate_missing_keys(secrets_manager) -> None:
    from mostrador.config import load_settings

    app_arn = _secret(
        secrets_manager,
        "app-partial",
        # An older deployed secret: no GEMINI_API_KEY, no ADMIN_TOKEN; empty values are "not used".
        {"OPENAI_API_KEY": "sk-from-secret", "META_APP_SECRET": "", "SOMETHING_ELSE": "ignored"},
    )
    ingest_arn = _secret(secrets_manager, "ingest-key", {"INGEST_API_KEY": "generated-key-40"})
    settings = load_settings(
        {"MOSTRADOR_SECRET_ARN": app_arn, "MOSTRADOR_INGEST_KEY_SECRET_ARN": ingest_arn, "LLM_PROVIDER": "openai"}
    )
    assert settings.secret("openai_api_key") == "sk-from-secret"
    assert settings.secret("ingest_api_key") == "generated-key-40"
    assert settings.gemini_api_key is None
    assert settings.admin_token is None
    assert settings.meta_app_secret is None
    assert not hasattr(settings, "something_else")


def test_the_environment_wins_over_the_secrets(secrets_manager) -> None:
    from mostrador.config import load_settings

    arn = _secret(secrets_manager, "ingest-key-2", {"INGEST_API_KEY": "from-secret"})
    settings = load_settings({"MOSTRADOR_INGEST_KEY_SECRET_ARN": arn, "INGEST_API_KEY": "from-env"})
    assert settings.secret("ingest_api_key") == "from-env"


def test_the_database_app_role_comes_from_its_secret_only_on_aws(secrets_manager) -> None:
    from mostrador.config import database_app_role

    assert database_app_role({}) is None  # local stack and tests: one user does everything
    arn = _secret(secrets_manager, "database-app", {"username": "mostrador_app", "password": "pw-123"})
    assert database_app_role({"DATABASE_APP_SECRET_ARN": arn}) == ("mostrador_app", "pw-123")
