"""Voice notes, photos and the events that get no answer (issue 13), end to end: webhook bodies through
the real parsers, the real reply handler, media downloaded from the fake Graph / Support Board servers,
transcribed and described by the real OpenAI / Gemini SDKs talking to the fake LLM server."""

from __future__ import annotations

import pytest

from mostrador.conversations.notices import notice
from tests.fakes.media_files import amr_voice_note, mp3_voice_note, mp4_voice_note, ogg_opus_voice_note, png_photo
from tests.fakes.platforms import platforms_fixture, uploads_host_fixture  # noqa: F401
from tests.integration import rich_support
from tests.integration import test_admin_support as admin_support
from tests.integration import test_reply_support as support
from tests.integration.rich_support import (
    fb_in,
    ig_unsend,
    message_row,
    sb_in,
    use_openai_media,
    wa_in,
    wa_text,
)
from tests.integration.test_reply_support import add_products, deliver, product

reply_env, admin, no_burst = support.reply_env, admin_support.admin, rich_support.no_burst
pytestmark = pytest.mark.usefixtures("no_burst")


def _catalog(db) -> None:
    add_products(
        db,
        product("LIC-1", "Licuadora Oster Vaso de Vidrio", 89.0, 5, branch="Caracas"),
        product("NEV-1", "Nevera Samsung RT38", 499.0, 2, branch="Valencia"),
        product("VEN-1", "Ventilador Taurus de pie", 35.0, 7, branch="Caracas"),
    )


def _voice(reply_env, seconds: float, marker: str, **extra):
    data = ogg_opus_voice_note(seconds, marker)
    media_id = reply_env.meta.add_media(data, "audio/ogg; codecs=opus")
    message = wa_in("audio", {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}, **extra)
    return message, data, media_id


# -- voice notes -----------------------------------------------------------------------------------


def test_a_whatsapp_voice_note_is_fetched_transcribed_and_answered(
    reply_env, db, llm_server, monkeypatch, no_burst, admin
):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    message, data, media_id = _voice(reply_env, 7.5, "nevera")
    llm_server.add_transcript(data, "Hola, ¿tienen nevera Samsung?")

    assert deliver(message) == []

    # Graph media id -> URL -> bytes, both with the WhatsApp token.
    lookups = [r for r in reply_env.meta.requests if r.method == "GET"]
    assert [r.path for r in lookups] == [f"/v21.0/{media_id}", f"/media-files/{media_id}"]
    assert all(r.headers["authorization"] == f"Bearer {reply_env.meta.token}" for r in lookups)
    # The real OpenAI SDK uploaded the file to the transcription model.
    [upload] = [r for r in llm_server.requests if r.kind == "transcription"]
    assert upload.path == "/v1/audio/transcriptions"
    assert (upload.body["model"], upload.body["file_name"]) == ("gpt-4o-mini-transcribe", "voice-note.ogg")
    # Answered as text: the transcript found the fridge.
    [text] = reply_env.meta.sent_texts()
    assert "Nevera Samsung RT38" in text and "Valencia: 2" in text
    row = message_row(db, message.platform_message_id)
    assert (row["media_kind"], row["transcript"], row["state"]) == ("audio", "Hola, ¿tienen nevera Samsung?", "replied")
    usage = db.execute("SELECT provider, model FROM llm_usage WHERE purpose = 'transcription'").fetchall()
    assert [(u["provider"], u["model"]) for u in usage] == [("openai", "gpt-4o-mini-transcribe")]

    # The transcript shows in the admin API.
    view = admin.ok("GET", f"/admin/conversations/{message.conversation_id}")
    [shown] = [m for m in view["messages"] if m["direction"] == "inbound"]
    assert (shown["mediaKind"], shown["transcript"]) == ("audio", "Hola, ¿tienen nevera Samsung?")


def test_a_redelivered_voice_note_is_not_transcribed_twice(reply_env, db, llm_server, monkeypatch):
    use_openai_media(monkeypatch, llm_server)
    message, data, _ = _voice(reply_env, 3, "twice")
    llm_server.add_transcript(data, "¿tienen ventiladores?")
    reply_env.meta.fail_next(http_status=503)  # the reply's send fails: the queue retries the item
    assert deliver(message) == ["0"]
    assert deliver(message) == []
    assert llm_server.calls("transcription") == 1
    assert message_row(db, message.platform_message_id)["state"] == "replied"


def test_an_unsent_voice_note_loses_its_transcript_with_it(reply_env, db, llm_server, monkeypatch):
    """The transcript is the customer's words as much as a text is: an unsend removes both."""
    use_openai_media(monkeypatch, llm_server)
    data = ogg_opus_voice_note(4, "unsend")
    llm_server.add_transcript(data, "Mi dirección es Av. Libertador 123, ¿tienen neveras?")
    url = reply_env.meta.cdn_url(data, "audio/ogg")
    message = fb_in(instagram=True, message={"attachments": [{"type": "audio", "payload": {"url": url}}]})
    assert deliver(message) == []
    assert "Libertador" in (message_row(db, message.platform_message_id)["transcript"] or "")

    assert deliver(ig_unsend(message)) == []
    row = message_row(db, message.platform_message_id)
    assert row["deleted_at"] is not None and row["transcript"] is None and row["media_description"] is None


def test_a_transcript_sets_a_new_conversations_language_and_switches_a_pinned_one_only_when_clear(
    reply_env, db, llm_server, monkeypatch
):
    use_openai_media(monkeypatch, llm_server)
    first, data, _ = _voice(reply_env, 3, "english")
    llm_server.add_transcript(data, "Hi, do you have Samsung fridges?")
    assert deliver(first) == []  # the conversation's first message: its transcript sets the language
    language = "SELECT language FROM conversations WHERE conversation_id = %s"
    assert db.execute(language, (first.conversation_id,)).fetchone()["language"] == "en"

    second, data, _ = _voice(reply_env, 2, "gracias")
    llm_server.add_transcript(data, "gracias")
    assert deliver(second) == []  # one word is never clear enough to switch a pinned conversation
    assert db.execute(language, (first.conversation_id,)).fetchone()["language"] == "en"

    third, data, _ = _voice(reply_env, 4, "spanish")
    llm_server.add_transcript(data, "¿tienen neveras de dos puertas en la tienda de Caracas?")
    assert deliver(third) == []
    assert db.execute(language, (first.conversation_id,)).fetchone()["language"] == "es"
    assert message_row(db, third.platform_message_id)["language"] == "es"


def test_a_voice_note_over_the_duration_limit_gets_a_clear_message(reply_env, db, llm_server, monkeypatch):
    use_openai_media(monkeypatch, llm_server)
    monkeypatch.setenv("VOICE_NOTE_MAX_SECONDS", "120")
    message, _, _ = _voice(reply_env, 185, "long")
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [notice("voice_too_long", "es", minutes="2")]
    assert llm_server.calls("transcription") == 0
    assert message_row(db, message.platform_message_id)["state"] == "replied"


@pytest.mark.parametrize("instagram", [False, True], ids=["messenger", "instagram"])
def test_an_mp4_audio_clip_over_the_duration_limit_gets_a_clear_message(
    reply_env, db, llm_server, monkeypatch, instagram
):
    """Messenger and Instagram audio clips are MP4 (AAC), their moov box after the media data."""
    use_openai_media(monkeypatch, llm_server)
    monkeypatch.setenv("VOICE_NOTE_MAX_SECONDS", "120")
    data = mp4_voice_note(185, f"long-mp4-{instagram}")
    llm_server.add_transcript(data, "esto no debería transcribirse")
    url = reply_env.meta.cdn_url(data, "audio/mp4", name=f"audioclip-{instagram}.mp4")
    message = fb_in(instagram=instagram, message={"attachments": [{"type": "audio", "payload": {"url": url}}]})
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [notice("voice_too_long", "es", minutes="2")]
    assert llm_server.calls("transcription") == 0


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        (lambda seconds, marker: amr_voice_note(seconds, marker), "audio/amr"),
        (lambda seconds, marker: amr_voice_note(seconds, marker, wideband=True), "audio/amr"),
        (lambda seconds, marker: mp3_voice_note(seconds, marker), "audio/mpeg"),
    ],
    ids=["amr", "amr-wb", "mp3"],
)
def test_an_amr_or_mp3_voice_note_over_the_duration_limit_gets_a_clear_message(
    reply_env, db, llm_server, monkeypatch, make, mime
):
    """WhatsApp takes AMR and MP3 audio too: their length is measured from their frames."""
    use_openai_media(monkeypatch, llm_server)
    monkeypatch.setenv("VOICE_NOTE_MAX_SECONDS", "120")
    long = make(185, f"long-{mime}")
    llm_server.add_transcript(long, "esto no debería transcribirse")
    message = wa_in("audio", {"id": reply_env.meta.add_media(long, mime), "mime_type": mime})
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [notice("voice_too_long", "es", minutes="2")]
    assert llm_server.calls("transcription") == 0
    # Within the limit the same format is transcribed and answered.
    short = make(20, f"short-{mime}")
    llm_server.add_transcript(short, "¿tienen ventiladores?")
    assert deliver(wa_in("audio", {"id": reply_env.meta.add_media(short, mime), "mime_type": mime})) == []
    assert llm_server.calls("transcription") == 1


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_silent_voice_note_is_transcribed_once_and_the_customer_asked_to_type(
    reply_env, db, llm_server, monkeypatch, provider
):
    """An empty transcript is silence: the other provider (its key is set) is not paid to hear nothing."""
    use_openai_media(monkeypatch, llm_server, provider=provider)
    message, data, _ = _voice(reply_env, 6, f"silent-{provider}")
    llm_server.add_transcript(data, "")
    assert deliver(message) == []
    assert [r.api for r in llm_server.requests if r.kind == "transcription"] == [provider]
    assert reply_env.meta.sent_texts() == [notice("voice_unavailable", "es")]
    assert message_row(db, message.platform_message_id)["transcript"] is None


def test_a_voice_note_over_the_size_limit_is_not_even_downloaded(reply_env, db, llm_server, monkeypatch):
    use_openai_media(monkeypatch, llm_server)
    monkeypatch.setenv("MEDIA_MAX_BYTES", "2000000")
    message, _, media_id = _voice(reply_env, 30, "big")
    reply_env.meta.announced_sizes[media_id] = 15_000_000  # Meta says 15 MB
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [notice("media_too_large", "es", megabytes="2")]
    assert reply_env.meta.media_downloads() == [] and llm_server.calls("transcription") == 0


def test_offline_a_voice_note_gets_a_polite_notice_and_nothing_is_downloaded(reply_env, db):
    message, _, _ = _voice(reply_env, 5, "offline")
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [notice("voice_needs_model", "es")]
    assert [r for r in reply_env.meta.requests if r.method == "GET"] == []


def test_a_support_board_voice_note_comes_by_url_and_gemini_transcribes_it(reply_env, db, llm_server, monkeypatch):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server, provider="gemini")
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    data = ogg_opus_voice_note(4, "sb")
    url = board.add_file("voice-45.ogg", data, "audio/ogg")
    llm_server.add_transcript(data, "busco un ventilador de pie")
    message = sb_in(message="", attachments=f'[["voice-45.ogg", "{url}"]]', conversation_source="wa")
    assert message.media_kind == "audio"

    assert deliver(message) == []

    [call] = [r for r in llm_server.requests if r.kind == "transcription"]
    assert call.api == "gemini" and call.body["contents"][0]["parts"][0]["inlineData"]["mime_type"] == "audio/ogg"
    [text] = reply_env.meta.sent_texts()  # Support Board's WhatsApp relay goes through the Cloud API
    assert "Ventilador Taurus" in text
    assert message_row(db, message.platform_message_id)["transcript"] == "busco un ventilador de pie"


# -- photos ----------------------------------------------------------------------------------------


def test_a_photo_is_described_and_the_description_drives_the_search(reply_env, db, llm_server, monkeypatch):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    photo = png_photo("blender")
    media_id = reply_env.meta.add_media(photo, "image/png")
    llm_server.add_image_description(photo, "Una licuadora Oster con vaso de vidrio y base plateada.")
    message = wa_in("image", {"id": media_id, "mime_type": "image/png", "caption": "¿tienen este?"})

    assert deliver(message) == []

    [vision] = [r for r in llm_server.requests if r.kind == "vision"]
    user = vision.body["messages"][1]["content"]
    assert user[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "¿tienen este?" in user[0]["text"] and "'es'" in vision.body["messages"][0]["content"]
    [text] = reply_env.meta.sent_texts()
    assert "Licuadora Oster Vaso de Vidrio" in text and "Nevera" not in text
    row = message_row(db, message.platform_message_id)
    assert row["media_description"] == "Una licuadora Oster con vaso de vidrio y base plateada."
    # The description is asked of the store's information first (nothing there), then of the catalog.
    asked, search = db.execute("SELECT tool_name, arguments, result_count FROM tool_calls ORDER BY id").fetchall()
    assert (asked["tool_name"], asked["result_count"]) == ("search_knowledge", 0)
    assert "licuadora" in asked["arguments"]["question"].lower()
    assert search["tool_name"] == "search_local_products" and "licuadora" in search["arguments"]["query"].lower()


def test_a_messenger_photo_comes_from_its_attachment_url_and_gemini_describes_it(
    reply_env, db, llm_server, monkeypatch
):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server, provider="gemini")
    photo = png_photo("fan")
    url = reply_env.meta.cdn_url(photo, "image/png")
    llm_server.add_image_description(photo, "Un ventilador de pie Taurus blanco.")
    message = fb_in(message={"attachments": [{"type": "image", "payload": {"url": url}}]})
    assert deliver(message) == []
    [call] = [r for r in llm_server.requests if r.kind == "vision"]
    assert call.api == "gemini"
    [text] = reply_env.meta.sent_texts()
    assert "Ventilador Taurus" in text


def test_a_support_board_photo_with_a_caption_is_described_and_searched(reply_env, db, llm_server, monkeypatch):
    """Support Board sends the caption as the message's words beside the attachment: still a photo."""
    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    photo = png_photo("sb-blender")
    url = board.add_file("foto-45.png", photo, "image/png")
    llm_server.add_image_description(photo, "Una licuadora Oster con vaso de vidrio.")
    message = sb_in(message="¿tienen este?", attachments=f'[["foto-45.png", "{url}"]]', conversation_source="wa")

    assert deliver(message) == []

    [vision] = [r for r in llm_server.requests if r.kind == "vision"]
    assert "¿tienen este?" in vision.body["messages"][1]["content"][0]["text"]
    [text] = reply_env.meta.sent_texts()
    assert "Licuadora Oster Vaso de Vidrio" in text and "Ventilador" not in text
    row = message_row(db, message.platform_message_id)
    assert (row["media_kind"], row["text"]) == ("image", "¿tienen este?")
    assert row["media_description"] == "Una licuadora Oster con vaso de vidrio."


def test_a_huge_caption_reaches_the_photo_model_cut_to_a_few_thousand_characters(
    reply_env, db, llm_server, monkeypatch
):
    from mostrador.llm import CUSTOMER_TEXT_CHARS

    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    photo = png_photo("sb-huge-caption")
    url = board.add_file("foto-46.png", photo, "image/png")
    llm_server.add_image_description(photo, "Una licuadora Oster con vaso de vidrio.")
    caption = "¿tienen este? " + "x" * 200_000
    message = sb_in(message=caption, attachments=f'[["foto-46.png", "{url}"]]', conversation_source="wa")

    assert deliver(message) == []

    [vision] = [r for r in llm_server.requests if r.kind == "vision"]
    sent = vision.body["messages"][1]["content"][0]["text"]
    shown = f"{caption[:CUSTOMER_TEXT_CHARS]}\n\n[… {len(caption) - CUSTOMER_TEXT_CHARS} more characters not shown]"
    assert sent == f"The customer's caption: {shown!r}"
    assert message_row(db, message.platform_message_id)["text"] == caption  # the record keeps it whole


def test_a_support_board_voice_note_with_words_is_answered_with_both(reply_env, db, llm_server, monkeypatch):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    data = ogg_opus_voice_note(3, "sb-words")
    url = board.add_file("voice-words.ogg", data, "audio/ogg")
    llm_server.add_transcript(data, "busco una licuadora")
    message = sb_in(
        message="de vaso de vidrio", attachments=f'[["voice-words.ogg", "{url}"]]', conversation_source="wa"
    )
    assert message.media_kind == "audio"
    assert deliver(message) == []
    [text] = reply_env.meta.sent_texts()
    assert "Licuadora Oster Vaso de Vidrio" in text
    # The model read the transcript and the words together: its search holds both.
    [query] = [
        r["arguments"]["query"]
        for r in db.execute("SELECT arguments FROM tool_calls WHERE tool_name = 'search_local_products'")
    ]
    assert "licuadora" in query.lower() and "vidrio" in query.lower()


def test_offline_a_support_board_voice_note_with_words_is_answered_by_the_words(reply_env, db):
    """No transcriber (offline): the typed words are still the customer's question; the reply answers
    them and says after it that the voice note itself was not heard (no download is tried)."""
    _catalog(db)
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    url = board.add_file("voice-offline.ogg", ogg_opus_voice_note(3, "sb-offline"), "audio/ogg")
    message = sb_in(
        message="¿tienen neveras samsung?", attachments=f'[["voice-offline.ogg", "{url}"]]', conversation_source="wa"
    )
    assert message.media_kind == "audio"
    assert deliver(message) == []
    [text] = reply_env.meta.sent_texts()
    assert "Nevera Samsung RT38" in text and text.endswith(notice("voice_unheard", "es"))
    assert message_row(db, message.platform_message_id)["state"] == "replied"
    assert [r for r in board.requests if r.method == "GET"] == []


def _board_photo_from(reply_env, llm_server, url: str, name: str = "foto.png"):
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    return sb_in(message="", attachments=f'[["{name}", "{url}"]]', conversation_source="wa")


def _cdn_fetches(reply_env) -> list:
    return [r for r in reply_env.meta.requests if r.method == "GET" and r.path.startswith("/cdn/")]


def test_a_support_board_attachment_on_another_host_is_never_fetched(reply_env, db, llm_server, monkeypatch):
    """SSRF: the webhook is unsigned and the reply function runs inside the VPC; only the Support Board
    server's own origin (SUPPORT_BOARD_API_URL's) is fetched."""
    use_openai_media(monkeypatch, llm_server)
    photo = png_photo("foreign")
    llm_server.add_image_description(photo, "Una licuadora.")
    foreign = reply_env.meta.cdn_url(photo, "image/png", name="foreign.png")  # another origin (port)
    message = _board_photo_from(reply_env, llm_server, foreign)

    assert deliver(message) == []

    assert _cdn_fetches(reply_env) == [] and llm_server.calls("vision") == 0
    assert reply_env.meta.sent_texts() == [notice("photo_unavailable", "es")]


def test_a_support_board_attachment_redirecting_off_its_server_is_not_followed(reply_env, db, llm_server, monkeypatch):
    use_openai_media(monkeypatch, llm_server)
    photo = png_photo("redirected")
    llm_server.add_image_description(photo, "Una licuadora.")
    foreign = reply_env.meta.cdn_url(photo, "image/png", name="redirected.png")
    board = reply_env.support_board
    url = board.add_redirect("away.png", foreign)
    message = _board_photo_from(reply_env, llm_server, url, "away.png")

    assert deliver(message) == []

    assert [r.path for r in board.requests if r.method == "GET"] == ["/supportboard/uploads/away.png"]
    assert _cdn_fetches(reply_env) == [] and llm_server.calls("vision") == 0
    assert reply_env.meta.sent_texts() == [notice("photo_unavailable", "es")]


def test_a_support_board_attachment_redirecting_on_its_own_server_is_followed(reply_env, db, llm_server, monkeypatch):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    photo = png_photo("moved")
    llm_server.add_image_description(photo, "Una licuadora Oster con vaso de vidrio.")
    board = reply_env.support_board
    final = board.add_file("moved.png", photo, "image/png")
    url = board.add_redirect("old.png", final.removeprefix(board.base))  # a relative Location
    message = _board_photo_from(reply_env, llm_server, url, "old.png")

    assert deliver(message) == []

    assert llm_server.calls("vision") == 1
    [text] = reply_env.meta.sent_texts()
    assert "Licuadora Oster" in text


def _listing_media_host(monkeypatch, uploads_host) -> None:
    """SUPPORT_BOARD_MEDIA_HOSTS names the https uploads host (a Support Board keeping uploads on S3)."""
    from mostrador.config import reset_settings

    monkeypatch.setenv("SUPPORT_BOARD_MEDIA_HOSTS", f"cdn.tienda.example, {uploads_host.host}")
    reset_settings()


def test_a_support_board_photo_on_a_listed_media_host_is_fetched_over_https(
    reply_env, db, llm_server, monkeypatch, uploads_host
):
    _catalog(db)
    use_openai_media(monkeypatch, llm_server)
    _listing_media_host(monkeypatch, uploads_host)
    photo = png_photo("bucket")
    llm_server.add_image_description(photo, "Una licuadora Oster con vaso de vidrio.")
    url = uploads_host.add_file("2026/11/licuadora.png", photo, "image/png")
    assert url.startswith("https://localhost:")

    assert deliver(_board_photo_from(reply_env, llm_server, url, "licuadora.png")) == []

    assert [(r.method, r.path) for r in uploads_host.requests] == [("GET", "/uploads/2026/11/licuadora.png")]
    assert llm_server.calls("vision") == 1
    [text] = reply_env.meta.sent_texts()
    assert "Licuadora Oster" in text


def test_a_listed_media_host_is_fetched_over_https_only_and_every_other_host_stays_refused(
    reply_env, db, llm_server, monkeypatch, uploads_host
):
    use_openai_media(monkeypatch, llm_server)
    _listing_media_host(monkeypatch, uploads_host)
    photo = png_photo("refused")
    llm_server.add_image_description(photo, "Una licuadora.")
    uploads_host.add_file("f.png", photo, "image/png")
    elsewhere = reply_env.meta.cdn_url(photo, "image/png", name="elsewhere.png")  # a host not listed
    away = uploads_host.add_redirect("away.png", elsewhere)  # listed, but sends the download elsewhere
    for url in (uploads_host.http_url("f.png"), elsewhere, away):
        assert deliver(_board_photo_from(reply_env, llm_server, url)) == []

    assert [r.path for r in uploads_host.requests] == ["/uploads/away.png"]  # plain http: never asked
    assert _cdn_fetches(reply_env) == [] and llm_server.calls("vision") == 0
    assert reply_env.meta.sent_texts() == [notice("photo_unavailable", "es")] * 3


def test_offline_a_photo_with_a_caption_is_answered_by_the_caption_and_says_photos_need_a_model(reply_env, db):
    _catalog(db)
    message = wa_in("image", {"id": "555", "mime_type": "image/jpeg", "caption": "¿tienen licuadoras?"})
    assert deliver(message) == []
    [text] = reply_env.meta.sent_texts()
    assert "Licuadora Oster" in text and text.endswith(notice("photo_needs_model", "es"))
    assert [r for r in reply_env.meta.requests if r.method == "GET"] == []


def test_offline_a_photo_without_a_caption_gets_the_notice_only(reply_env, db):
    message = wa_in("image", {"id": "556", "mime_type": "image/jpeg"})
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [notice("photo_needs_model", "es")]


# -- events that get no reply ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "first", "says"),
    [
        ("es", "hola, ¿tienen neveras de dos puertas?", "Por ahora solo puedo leer texto."),
        ("en", "hello, do you have any fridges with two doors?", "For now I can only read text."),
        ("pt", "olá, vocês têm geladeiras de duas portas?", "Por enquanto só consigo ler texto."),
        (
            "fr",
            "bonjour, avez-vous des réfrigérateurs à deux portes ?",
            "Pour l'instant, je ne peux lire que le texte.",
        ),
    ],
    ids=["es", "en", "pt", "fr"],
)
def test_offline_the_unsupported_notice_says_only_text_is_read(reply_env, db, language, first, says):
    """Offline a voice note gets "I can't listen to audio yet": the notice must not promise voice notes or
    photos. Told in the conversation's language."""
    opening = wa_text(first)
    assert deliver(opening) == []
    video = wa_in("video", {"id": "890", "mime_type": "video/mp4"})
    assert deliver(video) == []
    assert reply_env.meta.sent_texts()[-1] == notice("unsupported_text_only", language)
    assert reply_env.meta.sent_texts()[-1].startswith(says)


def test_the_unsupported_notice_names_voice_notes_only_where_they_are_transcribed(
    reply_env, db, llm_server, monkeypatch
):
    use_openai_media(monkeypatch, llm_server)
    monkeypatch.setenv("VISION_PROVIDER", "offline")
    from mostrador.config import reset_settings

    reset_settings()
    assert deliver(fb_in(message={"is_unsupported": True})) == []
    assert reply_env.meta.sent_texts() == [notice("unsupported_no_photos", "es")]
    assert "notas de voz" in reply_env.meta.sent_texts()[0] and "fotos" not in reply_env.meta.sent_texts()[0]


def test_reactions_are_recorded_never_answered_and_a_removal_is_ignored(reply_env, db):
    first = wa_text("hola, ¿tienen neveras?")
    deliver(first)
    sent = len(reply_env.meta.sent())
    reaction = wa_in("reaction", {"message_id": "wamid.OUR-REPLY", "emoji": "👍"})
    removal = wa_in("reaction", {"message_id": "wamid.OUR-REPLY", "emoji": ""})
    assert deliver(reaction) == [] and deliver(removal) == []
    assert len(reply_env.meta.sent()) == sent
    row = message_row(db, reaction.platform_message_id)
    assert (row["media_kind"], row["text"]) == ("reaction", "👍")
    assert (row["state"], row["state_reason"]) == ("skipped", "reaction")
    assert message_row(db, removal.platform_message_id)["state_reason"] == "reaction_removed"


def test_a_reaction_shows_the_message_it_refers_to_and_a_removal_clears_it(reply_env, db):
    """The admin API (and so the console's transcript) shows "👍 to <that message>": WhatsApp's
    `reaction.message_id` names one of our reply's pieces or a customer message. A changed reaction
    replaces the earlier one, a removal clears it; none of them is answered."""
    from datetime import UTC, datetime

    from mostrador.operations.conversations import REACTED_EXCERPT_CHARACTERS, conversation_view

    _catalog(db)
    question = wa_text("hola, ¿tienen ventiladores?")
    assert deliver(question) == []
    [ours] = support.replies(db, question.conversation_id)
    sent = len(reply_env.meta.sent())
    our_piece = ours["platform_message_ids"][-1]
    events = [
        wa_in("reaction", {"message_id": our_piece, "emoji": "👍"}),
        wa_in("reaction", {"message_id": our_piece, "emoji": "❤️"}),  # changed: replaces the 👍
        wa_in("reaction", {"message_id": question.platform_message_id, "emoji": "😮"}),  # to their own message
        wa_in("reaction", {"message_id": our_piece, "emoji": ""}),  # removal: clears the ❤️
        wa_in("reaction", {"message_id": "wamid.NEVER-SEEN", "emoji": "🙏"}),  # a message not in the log
    ]
    for event in events:
        assert deliver(event) == []
    assert len(reply_env.meta.sent()) == sent  # never answered

    view = conversation_view(db, "default", question.conversation_id, cursor=None, limit=50, now=datetime.now(UTC))
    shown = {m["id"]: m for m in view["messages"]}
    reactions = [shown[message_row(db, e.platform_message_id)["id"]]["reaction"] for e in events]
    # A long message is shown by its start.
    excerpt = reactions[0]["to"]["text"]
    assert len(ours["text"]) > REACTED_EXCERPT_CHARACTERS >= len(excerpt)
    assert excerpt.endswith("…") and ours["text"].startswith(excerpt.removesuffix("…"))
    to_ours = {"id": ours["id"], "direction": "outbound", "actor": "bot", "mediaKind": "text", "text": excerpt}
    question_id = message_row(db, question.platform_message_id)["id"]
    to_question = {"id": question_id, "direction": "inbound", "actor": "customer", "mediaKind": "text",
                   "text": "hola, ¿tienen ventiladores?"}  # fmt: skip
    assert reactions == [
        {"emoji": "👍", "status": "replaced", "platformMessageId": our_piece, "to": to_ours},
        {"emoji": "❤️", "status": "removed", "platformMessageId": our_piece, "to": to_ours},
        {"emoji": "😮", "status": "current", "platformMessageId": question.platform_message_id, "to": to_question},
        {"emoji": "", "status": "removal", "platformMessageId": our_piece, "to": to_ours},
        {"emoji": "🙏", "status": "current", "platformMessageId": "wamid.NEVER-SEEN", "to": None},
    ]
    assert "reaction" not in shown[question_id] and "reaction" not in shown[ours["id"]]
    assert [shown[message_row(db, e.platform_message_id)["id"]]["stateReason"] for e in events] == [
        "reaction", "reaction", "reaction", "reaction_removed", "reaction",
    ]  # fmt: skip


def test_a_sticker_gets_no_reply(reply_env, db):
    sticker = wa_in("sticker", {"id": "777", "mime_type": "image/webp", "animated": False})
    assert deliver(sticker) == []
    assert reply_env.meta.sent() == []
    assert message_row(db, sticker.platform_message_id)["state_reason"] == "sticker"


def test_unsupported_messages_get_one_polite_notice_per_conversation(reply_env, db, llm_server, monkeypatch):
    use_openai_media(monkeypatch, llm_server)  # voice notes and photos are read here: the notice says so
    video = wa_in("video", {"id": "888", "mime_type": "video/mp4"})
    unknown = wa_in("unsupported", None, errors=[{"code": 131051, "title": "Message type unknown"}])
    document = wa_in("document", {"id": "889", "mime_type": "application/pdf", "filename": "lista.pdf"})
    assert deliver(video) == [] and deliver(unknown) == [] and deliver(document) == []
    assert reply_env.meta.sent_texts() == [notice("unsupported", "es")]
    assert message_row(db, video.platform_message_id)["state"] == "replied"
    assert message_row(db, unknown.platform_message_id)["state_reason"] == "unsupported_again"
    # A Messenger customer is another conversation: they get their own notice (in English here).
    deliver(fb_in(message={"text": "hi there, do you have fans?"}))
    deliver(fb_in(message={"is_unsupported": True}))
    assert reply_env.meta.sent_texts()[-1] == notice("unsupported", "en")
