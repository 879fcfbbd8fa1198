"""E-mail to a business's own people (never to customers): escalations (docs/tenants.md).

On AWS through Amazon SES (`sesv2` SendEmail) from the deployment's verified sender address
(ESCALATION_EMAIL_FROM; docs/deploy.md, "Escalation e-mail"); locally written as one .eml file per e-mail
into a folder (ESCALATION_EMAIL_OUTBOX_DIR, the local stack's `<data dir>/mail`), which any mail program
opens. Neither set: the deployment sends no e-mail.

The text names the store, the escalation's number, channel, reason and time, never the conversation id:
it holds the customer's phone number or PSID, and a mail is forwarded and kept where the console's
masking does not reach. The console's Escalations page finds the conversation by its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mostrador.config import Settings
    from mostrador.conversations.escalation_notice import EscalationNotice

# SES answers in well under a second; past these the customer's reply would wait on a mail.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class MailNotSent(RuntimeError):
    """The mail service refused or could not be reached; `code` says why (SES's error code)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class Mailer(Protocol):
    def send(self, mail: Mail) -> str:
        """Sends `mail`; its id (SES's MessageId, the file's name). MailNotSent when it was not sent."""
        ...


class SesMailer:
    """Amazon SES (API v2) from one verified sender address."""

    def __init__(self, sender: str, client: Any = None) -> None:
        self.sender = sender
        self._client = client

    def _ses(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
                retries={"max_attempts": 2, "mode": "standard"},
            )
            self._client = boto3.client("sesv2", config=config)
        return self._client

    def send(self, mail: Mail) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._ses().send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [mail.to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}},
                    }
                },
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code") or "ClientError")
            raise MailNotSent(f"SES refused the mail: {code}", code) from exc
        except BotoCoreError as exc:
            raise MailNotSent(f"SES could not be reached: {type(exc).__name__}", type(exc).__name__) from exc
        return str(answer.get("MessageId", ""))


class OutboxFolderMailer:
    """The local stack's mail: one RFC 5322 .eml file per mail in a folder, nothing sent."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, mail: Mail) -> str:
        from email.message import EmailMessage
        from email.utils import format_datetime, make_msgid

        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="mostrador.local")
        message.set_content(mail.text)
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{re.sub(r'[^A-Za-z0-9]+', '-', mail.subject)[:60].strip('-')}.eml"
        (self.folder / name).write_bytes(bytes(message))
        return name


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """The local outbox folder when set, else SES when a sender is set, else None (no e-mail)."""
    if settings.escalation_email_outbox_dir:
        sender = settings.escalation_email_from or "mostrador@localhost"
        return OutboxFolderMailer(Path(settings.escalation_email_outbox_dir), sender)
    if settings.escalation_email_from:
        return SesMailer(settings.escalation_email_from)
    return None


_TEXTS = {
    "en": {
        "subject": "Escalation #{id} at {store}: {reason}",
        "body": (
            "A conversation at {store} needs a person.\n\n"
            "Escalation: #{id}\n"
            "Channel: {channel}\n"
            "Why: {reason} ({source})\n"
            "Opened: {opened} ({zone})\n\n"
            "The bot stays quiet in that conversation until a person answers it or it is resumed. "
            "Find it in the admin console under Escalations (#{id}).\n"
        ),
    },
    "es": {
        "subject": "Escalamiento #{id} en {store}: {reason}",
        "body": (
            "Una conversación de {store} necesita a una persona.\n\n"
            "Escalamiento: #{id}\n"
            "Canal: {channel}\n"
            "Motivo: {reason} ({source})\n"
            "Abierto: {opened} ({zone})\n\n"
            "El bot no responde en esa conversación hasta que una persona la atienda o se reanude. "
            "Está en la consola de administración, en Escalamientos (#{id}).\n"
        ),
    },
}


def escalation_mail(notice: EscalationNotice, to: str, *, store: str, time_zone: str, language: str) -> Mail:
    """The e-mail about one escalation, in the store's language (Spanish or English) and local time."""
    from mostrador.tenancy.profile import zone

    texts = _TEXTS.get(language, _TEXTS["en"])
    reason = " ".join(notice.reason.split())
    values = {
        "id": notice.escalation_id,
        "store": store,
        "channel": notice.channel,
        "reason": reason,
        "source": notice.source,
        "opened": f"{notice.opened_at.astimezone(zone(time_zone)):%Y-%m-%d %H:%M}",
        "zone": time_zone,
    }
    subject = texts["subject"].format(**{**values, "reason": reason[:80]})
    return Mail(to=to, subject=subject, text=texts["body"].format(**values))
