"""Settings read once per cold start from the environment (and, on AWS, one Secrets Manager secret).

Names match ../DESIGN.md and .env.example. Locally a `.env` file is loaded by the local stack before
this module reads the environment; real environment variables always win over the file.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

ProviderName = Literal["openai", "gemini", "offline"]

# Secrets that may come from Secrets Manager (a JSON object keyed by these names) instead of the
# plain environment. The CDK stack only ever sets the secrets' ARNs (SECRET_ARN_VARIABLES), never the
# values. A deployed secret may lack a key added here later: a missing key reads as unset.
SECRET_NAMES = (
    "INGEST_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "WHATSAPP_TOKEN",
    "MESSENGER_PAGE_TOKEN",
    "SUPPORT_BOARD_API_TOKEN",
    "SUPPORT_BOARD_WEBHOOK_SECRET",
    "ADMIN_TOKEN",
    "ADMIN_TOKEN_HASH_KEY",
    "DATABASE_URL",
)


# The operator-filled secret, the one holding the generated ingest key (read by the ingest function) and the
# one holding the generated key of admin token hashes (read by the admin function).
SECRET_ARN_VARIABLES = (
    "MOSTRADOR_SECRET_ARN",
    "MOSTRADOR_INGEST_KEY_SECRET_ARN",
    "MOSTRADOR_ADMIN_TOKEN_KEY_SECRET_ARN",
)

# Seconds the reply function may run (its deployed timeout, infra/functions.py; the local stack's TIMEOUTS
# agree, tests/infra). A customer message recorded longer ago than this and still `received` is no longer
# being handled (its invocation raised and it waits a retry, or it was dead-lettered).
REPLY_FUNCTION_TIMEOUT_SECONDS = 90


# One host name of SUPPORT_BOARD_MEDIA_HOSTS: DNS labels, lower case, the last starting with a letter (so
# never an IP address), optionally ":port". No scheme, path or wildcard: each host is named exactly.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?=[^:]{{1,253}}(:|$))({_LABEL}\.)*[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?(:\d{{1,5}})?")


def media_hosts(value: str) -> frozenset[str]:
    """SUPPORT_BOARD_MEDIA_HOSTS ("uploads.example.com, d111.cloudfront.net:8443") as `host:port` entries
    (443 when not given). ValueError naming the entry that is not a host name."""
    hosts = set()
    for entry in value.split(","):
        host = entry.strip().lower().rstrip(".")
        if not host:
            continue
        if not _HOST_NAME.fullmatch(host) or (":" in host and not 0 < int(host.rsplit(":", 1)[1]) < 65536):
            raise ValueError(
                f"SUPPORT_BOARD_MEDIA_HOSTS: {entry.strip()!r} is not a host name; list host names only, comma-"
                "separated, without https:// or a path (e.g. 'mybucket.s3.amazonaws.com, d111.cloudfront.net')"
            )
        hosts.add(host if ":" in host else f"{host}:443")
    return frozenset(hosts)


# Settings a tenant's own data fills in (tenancy/profile.py), which no environment variable sets.
NOT_FROM_ENVIRONMENT = frozenset({"tenant_whatsapp_numbers"})


class Settings(BaseModel):
    tenant_id: str = "default"
    database_url: SecretStr | None = None
    # Every database session carries these limits (db/connection.py; docs/deploy.md, "Database faults").
    database_connect_timeout_seconds: int = Field(default=5, ge=0)
    database_statement_timeout_seconds: float = Field(default=20, ge=0)
    database_lock_timeout_seconds: float = Field(default=5, ge=0)
    database_migration_statement_timeout_seconds: float = Field(default=240, ge=0)
    database_migration_lock_timeout_seconds: float = Field(default=30, ge=0)
    database_ping_after_idle_seconds: float = Field(default=30, ge=0)
    # API requests: past this, a server that does not open a probe session either is taken for hung (503).
    database_request_deadline_seconds: float = Field(default=3, gt=0)
    ingest_api_key: SecretStr | None = None
    admin_token: SecretStr | None = None
    # Keys the HMAC-SHA256 of admin tokens created through the API (docs/admin.md); changing it voids them all.
    admin_token_hash_key: SecretStr | None = None

    enrich_queue_url: str | None = None
    reply_queue_url: str | None = None
    # Receives before SQS dead-letters a message; also tells the sync tracker when a failure is final.
    enrich_max_receives: int = 5
    # The reply queue's maxReceiveCount: on that receive a send still failing is recorded as final.
    reply_max_receives: int = 5
    # Below Lambda's 6 MB invocation payload: the body travels JSON-escaped inside the event, which grows it.
    ingest_max_body_bytes: int = 5 * 1000 * 1000

    # Knowledge base (docs/knowledge.md): its queue, where raw files go (an S3 bucket on AWS, a folder
    # locally), receives before a document message is dead-lettered.
    knowledge_queue_url: str | None = None
    knowledge_bucket: str | None = None
    knowledge_files_dir: str | None = None
    knowledge_max_receives: int = 5

    llm_provider: ProviderName = "offline"
    embedding_provider: ProviderName | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_chat_model: str = "gpt-4o-mini"
    openai_embedding_model: str = "text-embedding-3-small"
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None
    gemini_chat_model: str = "gemini-2.5-flash"
    gemini_embedding_model: str = "gemini-embedding-001"
    embedding_dimensions: int = 1536
    llm_timeout_seconds: float = 30.0
    llm_max_retries: int = 3

    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    meta_app_secret: SecretStr | None = None
    meta_verify_token: SecretStr | None = None
    meta_app_id: str | None = None
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    # The WhatsApp phone_number_ids the tenant claims (tenant_channels): set per tenant by tenancy/profile.py,
    # never read from the environment. Support Board's WhatsApp relays reply from the one a conversation names.
    tenant_whatsapp_numbers: frozenset[str] = Field(default_factory=frozenset)
    messenger_page_token: SecretStr | None = None

    support_board_api_url: str | None = None
    support_board_api_token: SecretStr | None = None
    support_board_webhook_secret: SecretStr | None = None
    support_board_dm_bot_user_id: str | None = None
    comment_bot_proxy_user_id: str | None = None
    support_board_agent_ids: frozenset[str] = Field(default_factory=frozenset)
    # Hosts besides SUPPORT_BOARD_API_URL's own that Support Board attachments may be downloaded from, over
    # https only (its uploads on Amazon S3 or CloudFront): `host:port` entries (channels/media.py, SSRF guard).
    support_board_media_hosts: frozenset[str] = Field(default_factory=frozenset)
    comment_bot_initiation_tag: str | None = None
    human_takeover_pause_minutes: int = 43200

    # Tenants (docs/tenants.md). The routing document: a Secrets Manager secret on AWS, a file locally;
    # neither means one tenant (TENANT_ID) owns every channel id and the INGEST_API_KEY.
    mostrador_routing_secret_arn: str | None = None
    mostrador_routing_file: str | None = None
    # Each tenant's own tokens and keys: secrets named <prefix><tenant id> on AWS, files in a folder locally.
    mostrador_tenant_secret_prefix: str | None = None
    mostrador_tenant_secrets_dir: str | None = None

    # Customer messages of one conversation arriving within this many seconds of the first get one
    # reply (0: every message is answered at once). Whole seconds: SQS visibility timeouts are.
    reply_burst_window_seconds: int = Field(default=3, ge=0, le=60)
    # Voice notes and photos: which provider transcribes / looks (default: LLM_PROVIDER; offline: none).
    transcription_provider: ProviderName | None = None
    vision_provider: ProviderName | None = None
    openai_transcription_model: str = "gpt-4o-mini-transcribe"
    voice_note_max_seconds: int = Field(default=180, ge=1)
    media_max_bytes: int = Field(default=10_000_000, ge=1)

    # Escalation e-mail (mail.py): the SES sender address (a verified identity; docs/deploy.md), or locally
    # a folder the e-mails are written to as .eml files. Neither: no e-mail is sent.
    escalation_email_from: str | None = None
    escalation_email_outbox_dir: str | None = None

    # Comma-separated origins allowed to call the web chat routes from a browser (CORS).
    webchat_allowed_origins: str | None = None
    port: int = 3000

    @field_validator("support_board_agent_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("support_board_media_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return media_hosts(value) if isinstance(value, str) else value

    @field_validator(
        "embedding_provider", "comment_bot_initiation_tag", "transcription_provider", "vision_provider", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def effective_embedding_provider(self) -> ProviderName:
        """Embeddings follow the LLM provider unless set on their own; offline means none."""
        return self.embedding_provider or self.llm_provider

    @property
    def effective_transcription_provider(self) -> ProviderName:
        return self.transcription_provider or self.llm_provider

    @property
    def effective_vision_provider(self) -> ProviderName:
        return self.vision_provider or self.llm_provider

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


def _read_secret_bundle(arn: str) -> dict[str, str]:
    # Powertools caches the value for the life of the execution environment.
    from aws_lambda_powertools.utilities import parameters

    bundle = parameters.get_secret(arn, transform="json", max_age=3600)
    if not isinstance(bundle, dict):
        raise ValueError("MOSTRADOR_SECRET_ARN must point at a JSON object secret")
    return {key: str(value) for key, value in bundle.items() if value not in (None, "")}


def _database_url_from_rds_secret(arn: str, host_override: str | None) -> str:
    """RDS-generated secrets hold username, password, host, port and dbname; TLS is required."""
    from urllib.parse import quote

    secret = _read_secret_bundle(arn)
    host = host_override or secret["host"]
    return (
        f"postgresql://{quote(secret['username'], safe='')}:{quote(secret['password'], safe='')}"
        f"@{host}:{secret.get('port', '5432')}/{secret.get('dbname', 'mostrador')}?sslmode=require"
    )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    for variable in SECRET_ARN_VARIABLES:
        arn = env.get(variable)
        if arn:
            for key, value in _read_secret_bundle(arn).items():
                if key in SECRET_NAMES and not env.get(key):
                    env[key] = value
    db_arn = env.get("DATABASE_SECRET_ARN")
    if db_arn and not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _database_url_from_rds_secret(db_arn, env.get("DATABASE_HOST"))
    fields = Settings.model_fields
    values: dict[str, object] = {}
    for name in fields:
        if name in NOT_FROM_ENVIRONMENT:
            continue
        raw = env.get(name.upper())
        if raw is not None and raw != "":
            values[name] = json.loads(raw) if name == "support_board_agent_ids" and raw.startswith("[") else raw
    return Settings.model_validate(values)


def database_app_role(environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) of the role the deployed functions connect as, for the migrate function to create;
    None where one user does everything (local stack, tests)."""
    env = os.environ if environ is None else environ
    arn = env.get("DATABASE_APP_SECRET_ARN")
    if not arn:
        return None
    secret = _read_secret_bundle(arn)
    return secret["username"], secret["password"]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
