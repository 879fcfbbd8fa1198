"""The escalation recipients one by one: the e-mail's text (mail.escalation_mail), the local outbox folder,
Support Board's agent assignment through the real client on the fake Support Board server, and the
composite that keeps one recipient's failure from the others."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mostrador.channels.support_board import SupportBoardClient
from mostrador.conversations.escalation_notice import (
    EmailEscalationNotifier,
    EscalationNotice,
    EscalationRecipients,
    SupportBoardAssignment,
)
from mostrador.mail import Mail, OutboxFolderMailer, escalation_mail
from tests.fakes.platforms import Platforms, platforms_fixture  # noqa: F401

CONVERSATION = "wa:106540352242922:584125550101"  # holds the customer's number


def notice(**changes: object) -> EscalationNotice:
    values: dict[str, object] = {
        "tenant_id": "acme",
        "escalation_id": 41,
        "conversation_id": CONVERSATION,
        "channel": "whatsapp",
        "reason": "wants to\n  place an order",
        "source": "tool",
        "opened_at": datetime(2026, 3, 2, 13, 5, tzinfo=UTC),
        "email": "ventas@acme.example",
    }
    return EscalationNotice(**{**values, **changes})  # type: ignore[arg-type]


def test_the_mail_names_the_store_escalation_reason_and_local_time_never_the_conversation() -> None:
    mail = escalation_mail(notice(), "ventas@acme.example", store="Acme Electro", time_zone="America/Caracas",
                           language="es")  # fmt: skip

    assert mail.to == "ventas@acme.example"
    assert mail.subject == "Escalamiento #41 en Acme Electro: wants to place an order"
    assert mail.text.splitlines()[:6] == [
        "Una conversación de Acme Electro necesita a una persona.",
        "",
        "Escalamiento: #41",
        "Canal: whatsapp",
        "Motivo: wants to place an order (tool)",
        "Abierto: 2026-03-02 09:05 (America/Caracas)",  # 13:05 UTC in Caracas (UTC-4)
    ]
    assert CONVERSATION not in mail.text and "584125550101" not in mail.text + mail.subject


def test_the_mail_is_english_for_other_languages_and_a_long_reason_is_cut_in_the_subject() -> None:
    mail = escalation_mail(notice(reason="x" * 300), "a@b.example", store="Acme", time_zone="UTC", language="fr")

    assert mail.subject == f"Escalation #41 at Acme: {'x' * 80}"
    assert mail.text.startswith("A conversation at Acme needs a person.") and "x" * 300 in mail.text
    assert "Opened: 2026-03-02 13:05 (UTC)" in mail.text


def test_the_outbox_folder_holds_one_eml_file_a_mail_program_opens(tmp_path: Path) -> None:
    mailer = OutboxFolderMailer(tmp_path / "mail", "avisos@tienda.example")
    name = mailer.send(Mail("ventas@acme.example", "Escalamiento #41 en Acmé", "Hola\nárbol\n"))

    [path] = (tmp_path / "mail").iterdir()
    assert path.name == name and name.endswith(".eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (parsed["From"], parsed["To"], parsed["Subject"]) == (
        "avisos@tienda.example",
        "ventas@acme.example",
        "Escalamiento #41 en Acmé",
    )
    assert parsed.get_content() == "Hola\nárbol\n" and parsed["Message-ID"] and parsed["Date"]


def test_only_support_board_conversations_are_assigned_each_escalation_to_the_next_agent(
    platforms: Platforms,
) -> None:
    board = platforms.support_board
    board.add_conversation("900", user_id="77", source="wa")
    assign = SupportBoardAssignment(SupportBoardClient(api_url=board.url, token=board.token), ["31", "32", "33"])

    assert assign(notice(channel="whatsapp")) is True  # not in Support Board: nothing to do
    assert board.calls("update-conversation-agent") == []
    assert assign(notice(channel="support_board", conversation_id="sb:900", support_board_conversation_id="900"))

    [call] = board.calls("update-conversation-agent")
    assert (call["conversation_id"], call["agent_id"]) == ("900", "33")  # 41 % 3
    assert call["message"] == "Mostrador escalation #41: wants to\n  place an order"
    assert [assign.agent_for(n) for n in (42, 43, 44)] == ["31", "32", "33"]


class _Refusing:
    kind = "webhook"

    def __call__(self, notice: EscalationNotice) -> bool:
        raise ConnectionError("down")


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> str:
        self.sent.append(mail)
        return "1"


def test_one_failing_recipient_never_stops_the_others(caplog: pytest.LogCaptureFixture) -> None:
    outbox = _Outbox()
    mailing = EmailEscalationNotifier(
        outbox, "ventas@acme.example", lambda n, to: Mail(to, f"#{n.escalation_id}", n.reason)
    )

    delivered = EscalationRecipients([_Refusing(), mailing])(notice())

    assert delivered == {"webhook": False, "email": True}
    assert [m.subject for m in outbox.sent] == ["#41"]
    [line] = [r for r in caplog.records if r.getMessage() == "escalation notice not delivered"]
    assert (line.recipient, line.error, line.escalation_id) == ("webhook", "ConnectionError", 41)  # type: ignore[attr-defined]
