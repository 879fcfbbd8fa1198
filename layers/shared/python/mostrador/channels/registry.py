"""Which sender answers on which channel (the reply function asks here, never builds senders itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mostrador.channels.base import ChannelSender

if TYPE_CHECKING:
    import httpx

    from mostrador.config import Settings
    from mostrador.messaging.model import Channel


def sender_for(channel: Channel | str, settings: Settings, http: httpx.Client | None = None) -> ChannelSender:
    """The ChannelSender for a channel; ValueError for a channel nothing can send to."""
    if channel == "whatsapp":
        from mostrador.channels.whatsapp import WhatsAppSender

        return WhatsAppSender.from_settings(settings, http)
    if channel in ("messenger", "instagram"):
        from mostrador.channels.messenger import MessengerSender

        return MessengerSender.from_settings(settings, http)
    if channel == "support_board":
        from mostrador.channels.support_board import SupportBoardSender

        return SupportBoardSender.from_settings(settings, http)
    if channel == "webchat":
        from mostrador.channels.webchat import WebChatSender

        return WebChatSender()
    raise ValueError(f"no outbound sender for channel {channel!r}")
