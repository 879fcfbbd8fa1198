"""Deploy-time settings: defaults, then the stage's committed file, then CDK context (`-c key=value`).

Each stage's settings live in `infra/stages/<stage>.toml` (committed), so a prod deploy does not depend on
remembering flags; `-c key=value` still wins over the file for a one-off. A prod synth stops when a key that
production must decide (PROD_REQUIRED_KEYS) is in neither, naming the key and the file.

Only non-secret values live here. Secrets go into the Secrets Manager secret after the deploy; a key that
looks like a secret is refused, so one never ends up in the template by mistake.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mostrador.config import SECRET_NAMES, media_hosts

# The keys of the app secret are the ones mostrador.config reads from it; the database URL comes from
# the RDS-generated secret instead.
SECRET_KEYS = tuple(name for name in SECRET_NAMES if name != "DATABASE_URL")

# Queues whose own function also consumes their dead-letter queue, each up to deadLetterMaxConcurrency at once:
# enrich (counts each item there as failed in its sync) and reply (settles each item there).
CONSUMED_DEAD_LETTERS = ("enrich", "reply")

# Lambda environment variable -> (context key, default). Empty defaults are left out of the environment,
# so mostrador.config applies its own default.
APP_ENVIRONMENT: dict[str, tuple[str, str]] = {
    "TENANT_ID": ("tenantId", "default"),
    "LLM_PROVIDER": ("llmProvider", "openai"),
    "EMBEDDING_PROVIDER": ("embeddingProvider", ""),
    "OPENAI_CHAT_MODEL": ("openaiChatModel", "gpt-4o-mini"),
    "OPENAI_EMBEDDING_MODEL": ("openaiEmbeddingModel", "text-embedding-3-small"),
    "OPENAI_BASE_URL": ("openaiBaseUrl", ""),
    "GEMINI_CHAT_MODEL": ("geminiChatModel", ""),
    "GEMINI_EMBEDDING_MODEL": ("geminiEmbeddingModel", ""),
    "GEMINI_BASE_URL": ("geminiBaseUrl", ""),
    "MOSTRADOR_MODEL_PRICES": ("modelPrices", ""),
    "META_GRAPH_URL": ("metaGraphUrl", "https://graph.facebook.com/v21.0"),
    "META_APP_ID": ("metaAppId", ""),
    "WHATSAPP_PHONE_NUMBER_ID": ("whatsappPhoneNumberId", ""),
    "SUPPORT_BOARD_API_URL": ("supportBoardApiUrl", ""),
    "SUPPORT_BOARD_MEDIA_HOSTS": ("supportBoardMediaHosts", ""),
    "SUPPORT_BOARD_DM_BOT_USER_ID": ("supportBoardDmBotUserId", ""),
    "COMMENT_BOT_PROXY_USER_ID": ("commentBotProxyUserId", ""),
    "SUPPORT_BOARD_AGENT_IDS": ("supportBoardAgentIds", ""),
    "COMMENT_BOT_INITIATION_TAG": ("commentBotInitiationTag", ""),
    "HUMAN_TAKEOVER_PAUSE_MINUTES": ("humanTakeoverPauseMinutes", "43200"),
    "WEBCHAT_ALLOWED_ORIGINS": ("webchatAllowedOrigins", ""),
    # Escalation e-mails' sender: an address (or an address of a domain) verified in Amazon SES; empty: no mail.
    "ESCALATION_EMAIL_FROM": ("escalationEmailFrom", ""),
    "POWERTOOLS_LOG_LEVEL": ("logLevel", "INFO"),
}

STAGES_DIR = Path(__file__).resolve().parent / "stages"

# Keys a production stage must set explicitly (in infra/stages/prod.toml or with -c): their defaults suit a
# throwaway dev stack, not production. An empty value ("") is an explicit "not used" for the channel ids;
# alarmEmail must not be empty (an alarm nobody receives is no alarm).
PROD_REQUIRED_KEYS = (
    "alarmEmail",
    "dbMultiAz",
    "dbDeletionProtection",
    "natMode",
    "llmProvider",
    "tenantId",
    "metaAppId",
    "whatsappPhoneNumberId",
    "supportBoardApiUrl",
    "webchatAllowedOrigins",
)
PROD_NON_EMPTY_KEYS = ("alarmEmail", "llmProvider", "tenantId")

NAT_MODES = ("gateway", "instance")
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SECRETISH = re.compile(r"(secret|token|password|apikey|api_key|private)", re.IGNORECASE)


class SettingsError(ValueError):
    """A context value that cannot be deployed; the message says what to change."""


@dataclass(frozen=True)
class DeploySettings:
    stage: str = "dev"
    app_environment: dict[str, str] = field(default_factory=dict)
    # "gateway": one managed NAT gateway; "instance": one t4g.nano NAT instance (cheaper, see docs/deploy.md).
    nat_mode: str = "gateway"
    db_instance_type: str = "t4g.micro"
    db_allocated_storage_gib: int = 20
    db_max_allocated_storage_gib: int = 100
    db_multi_az: bool = False
    db_deletion_protection: bool = False
    db_backup_retention_days: int = 7
    # Connection bound: each consumer execution environment holds one connection.
    enrich_max_concurrency: int = 4
    reply_max_concurrency: int = 10
    knowledge_max_concurrency: int = 2  # SQS event sources take at least 2
    # Each of the two dead-letter consumers: the enrich function's of the enrich dead-letter queue and the
    # reply function's of the reply dead-letter queue.
    dead_letter_max_concurrency: int = 2
    reply_batch_size: int = 1
    api_throttle_rate: int = 20
    api_throttle_burst: int = 40
    # Concurrent executions the API functions may need on top of the consumers' maximum concurrency; the
    # deploy checks the account's Lambda quota against the sum (docs/deploy.md, "Lambda concurrency quota").
    api_concurrency_headroom: int = 10
    log_retention_days: int = 30
    alarm_email: str = ""
    reply_age_alarm_seconds: int = 300
    db_connections_alarm: int = 60
    settings_file: str = ""  # the stage file that was merged, for messages

    @property
    def required_concurrency(self) -> int:
        """Executions Mostrador may run at once: the consumers at their maximum plus the API's headroom."""
        return (
            self.reply_max_concurrency
            + self.enrich_max_concurrency
            + self.knowledge_max_concurrency
            + len(CONSUMED_DEAD_LETTERS) * self.dead_letter_max_concurrency
            + self.api_concurrency_headroom
        )

    @property
    def prefix(self) -> str:
        """Every physical name starts with this, so dev and prod live side by side in one account."""
        return f"mostrador-{self.stage}"


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _int(context: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    raw = context.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"context {key}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"context {key}={value}: must be between {low} and {high}")
    return value


def _refuse_secrets(values: dict[str, Any], source: str) -> None:
    for key in values:
        if key.startswith("@") or ":" in key:  # CDK feature flags and toolkit keys
            continue
        normalized = re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()
        if normalized in SECRET_KEYS or (_SECRETISH.search(key) and key not in _ALLOWED_SECRETISH_KEYS):
            raise SettingsError(
                f"{source} {key!r} looks like a secret; secrets never go into the template. "
                "Fill them into the Secrets Manager secret after the deploy (see docs/deploy.md)."
            )


def stage_file(stage: str, stages_dir: Path = STAGES_DIR) -> Path:
    return stages_dir / f"{stage}.toml"


def _read_stage_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    _refuse_secrets(values, f"{path}:")
    unknown = sorted(set(values) - set(CONTEXT_KEYS) - {"stage"})
    if unknown:
        raise SettingsError(f"{path}: unknown settings {', '.join(unknown)} (known: docs/deploy.md, infra/settings.py)")
    if "stage" in values:
        raise SettingsError(f"{path}: the stage is the file's name; remove the 'stage' key")
    return values


def _check_prod(merged: dict[str, Any], path: Path) -> None:
    if not path.is_file():
        raise SettingsError(f"stage prod needs its settings file {path} (see docs/deploy.md, 'Stage settings')")
    missing = [key for key in PROD_REQUIRED_KEYS if key not in merged]
    missing += [key for key in PROD_NON_EMPTY_KEYS if key in merged and not str(merged[key]).strip()]
    if missing:
        raise SettingsError(
            f"stage prod: set {', '.join(missing)} in {path} (or with -c key=value). Production must decide "
            "these explicitly; an empty string means 'not used' for the channel ids (docs/deploy.md, 'Stage settings')."
        )


def settings_from_context(context: dict[str, Any], stages_dir: Path = STAGES_DIR) -> DeploySettings:
    """Merge the stage's settings file under the CDK context (context wins) and build the settings."""
    _refuse_secrets(context, "context")
    stage = str(context.get("stage", "dev"))
    if not _STAGE.match(stage):
        raise SettingsError(f"context stage={stage!r}: use lowercase letters, digits and '-', at most 16 characters")
    path = stage_file(stage, stages_dir)
    context = {**_read_stage_file(path), **context}
    if stage == "prod":
        _check_prod(context, path)

    nat_mode = str(context.get("natMode", "gateway"))
    if nat_mode not in NAT_MODES:
        raise SettingsError(f"context natMode={nat_mode!r}: expected one of {', '.join(NAT_MODES)}")

    environment: dict[str, str] = {}
    for name, (key, default) in APP_ENVIRONMENT.items():
        value = str(context.get(key, default)).strip()
        if value:
            environment[name] = value
    if environment.get("LLM_PROVIDER") not in ("openai", "gemini", "offline"):
        raise SettingsError("context llmProvider: expected openai, gemini or offline")
    sender = environment.get("ESCALATION_EMAIL_FROM")
    if sender is not None and not _EMAIL.match(sender):
        raise SettingsError(
            f"context escalationEmailFrom={sender!r}: expected a plain address such as avisos@tienda.example "
            "(verified in Amazon SES, docs/deploy.md)"
        )
    try:  # refused here, at synth, rather than by every function's cold start after the deploy
        media_hosts(environment.get("SUPPORT_BOARD_MEDIA_HOSTS", ""))
    except ValueError as exc:
        raise SettingsError(f"context supportBoardMediaHosts: {exc}") from None

    is_prod = stage == "prod"
    return DeploySettings(
        stage=stage,
        app_environment=environment,
        nat_mode=nat_mode,
        db_instance_type=str(context.get("dbInstanceType", "t4g.micro")).removeprefix("db."),
        db_allocated_storage_gib=_int(context, "dbAllocatedStorageGiB", 20, 20, 1000),
        db_max_allocated_storage_gib=_int(context, "dbMaxAllocatedStorageGiB", 100, 20, 2000),
        db_multi_az=_bool(context.get("dbMultiAz", False)),
        db_deletion_protection=_bool(context.get("dbDeletionProtection", is_prod)),
        db_backup_retention_days=_int(context, "dbBackupRetentionDays", 7, 1, 35),
        enrich_max_concurrency=_int(context, "enrichMaxConcurrency", 4, 2, 100),
        reply_max_concurrency=_int(context, "replyMaxConcurrency", 10, 2, 100),
        knowledge_max_concurrency=_int(context, "knowledgeMaxConcurrency", 2, 2, 100),
        dead_letter_max_concurrency=_int(context, "deadLetterMaxConcurrency", 2, 2, 100),
        reply_batch_size=_int(context, "replyBatchSize", 1, 1, 10),
        api_throttle_rate=_int(context, "apiThrottleRate", 20, 1, 10000),
        api_throttle_burst=_int(context, "apiThrottleBurst", 40, 1, 5000),
        api_concurrency_headroom=_int(context, "apiConcurrencyHeadroom", 10, 1, 1000),
        log_retention_days=_int(context, "logRetentionDays", 30, 1, 3653),
        alarm_email=str(context.get("alarmEmail", "")).strip(),
        reply_age_alarm_seconds=_int(context, "replyAgeAlarmSeconds", 300, 60, 86400),
        db_connections_alarm=_int(context, "dbConnectionsAlarm", 60, 5, 5000),
        settings_file=str(path) if path.is_file() else "",
    )


# Context keys whose names match the secret pattern but hold no secret.
_ALLOWED_SECRETISH_KEYS: frozenset[str] = frozenset()

CONTEXT_KEYS = (
    "stage",
    "natMode",
    "dbInstanceType",
    "dbAllocatedStorageGiB",
    "dbMaxAllocatedStorageGiB",
    "dbMultiAz",
    "dbDeletionProtection",
    "dbBackupRetentionDays",
    "enrichMaxConcurrency",
    "replyMaxConcurrency",
    "knowledgeMaxConcurrency",
    "replyBatchSize",
    "apiThrottleRate",
    "apiThrottleBurst",
    "apiConcurrencyHeadroom",
    "logRetentionDays",
    "alarmEmail",
    "replyAgeAlarmSeconds",
    "dbConnectionsAlarm",
    *(key for key, _ in APP_ENVIRONMENT.values()),
)
