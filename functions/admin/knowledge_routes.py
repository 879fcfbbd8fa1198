"""Knowledge routes of the admin API (/admin/knowledge/...): documents, FAQ entries, suggestions and a
search to try questions. Included by functions/admin/handler.py; auth happens there, before routing.
Use cases: mostrador.knowledge.library; contract: docs/knowledge.md."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from mostrador.config import get_settings
from mostrador.knowledge import library
from mostrador.operations.auth import Permission, Principal
from mostrador.operations.knowledge_requests import (
    ApproveBody,
    DocumentQuery,
    DocumentUpload,
    DocumentView,
    ErrorAnswer,
    FaqBody,
    KnowledgeDocumentAnswer,
    KnowledgeSearchQuery,
    SuggestionQuery,
)

try:  # on Lambda this folder is the module root; locally and in tests it is the package functions.admin
    import access_routes as access  # type: ignore[import-not-found,unused-ignore]
except ModuleNotFoundError:
    from functions.admin import access_routes as access

router = Router()
DocumentId = Annotated[int, Path(ge=1)]
TAGS = ["knowledge"]


# Uploads, FAQ edits and approvals commit and then queue the work (the knowledge function must find the row),
# a deletion commits and then removes the file: not atomic, their audit entries follow them.
READ = [access.requires(Permission.READ_CONVERSATIONS)]
MANAGE = [access.requires(Permission.MANAGE_KNOWLEDGE)]
REVIEW = [access.requires(Permission.REVIEW_SUGGESTIONS)]
DISCARD = [access.requires(Permission.REVIEW_SUGGESTIONS, atomic=True)]  # the database only


# What each operation can answer, for the OpenAPI document (Powertools lists only 200 and 422 unless told).
_DOCUMENT = {"application/json": {"model": KnowledgeDocumentAnswer}}
_ERROR = {"application/json": {"model": ErrorAnswer}}


def _answers(ok: dict[int, str], errors: dict[int, str], *, document: bool = False) -> dict[int, Any]:
    answers: dict[int, Any] = {code: {"description": said} for code, said in ok.items()}
    if document:
        answers = {code: {**answer, "content": _DOCUMENT} for code, answer in answers.items()}
    answers.update({code: {"description": said, "content": _ERROR} for code, said in errors.items()})
    return answers


_INVALID = "a field is missing or invalid (the answer names it)"
_QUEUE_DOWN = "the knowledge queue refused the message: send the same request again (nothing was lost)"
_NO_DOCUMENT = "no such document (or FAQ entry / suggestion) in this tenant"
UPLOAD_ANSWERS = _answers(
    {
        202: "queued: a new document, new content under an existing name (`replaced`), or the same content "
        "to embed with a new embedding model (`unchanged`); `id` is the document, poll it for `status`",
        200: "`unchanged`: the same content under the same name is already there; nothing was done",
    },
    {
        400: "the file is empty",
        409: "the same content is already there under another name (the answer names it), or the same name "
        "is being uploaded by another request at this moment",
        413: "the file is larger than 4 MB: split it (a request over 6 MB gets API Gateway's own 413)",
        415: "unknown file type: the answer lists the accepted extensions",
        422: "not what its extension says (not a PDF, damaged, not a Word file, not UTF-8 text), an encrypted "
        "PDF that needs a password, invalid base64, or " + _INVALID,
        503: _QUEUE_DOWN,
    },
    document=True,
)
FAQ_ANSWERS = _answers(
    {202: "queued to be embedded", 200: "`unchanged`: the same entry is already there"},
    {422: _INVALID, 503: _QUEUE_DOWN},
    document=True,
)
FAQ_UPDATE_ANSWERS = _answers(
    {202: "queued: the old text serves until the new one is embedded", 200: "`unchanged`: the same text"},
    {404: _NO_DOCUMENT, 422: _INVALID, 503: _QUEUE_DOWN},
    document=True,
)
LIST_ANSWERS = _answers({200: "one page: the items and `nextCursor` when there are more"}, {422: _INVALID})
ONE_ANSWERS = _answers({200: "the document or FAQ entry (and its first chunks when asked)"}, {404: _NO_DOCUMENT})
DELETE_ANSWERS = _answers(
    {200: "deleted: `{deleted, id, chunksRemoved}`; search stops finding it at once"}, {404: _NO_DOCUMENT}
)
DECIDE_ANSWERS = _answers(
    {
        200: "decided: the suggestion (and, approved, the FAQ entry it became); also the same approval sent again "
        "after a 503, which queues the entry that is still pending"
    },
    {
        404: _NO_DOCUMENT,
        409: "the suggestion was already decided (an approval sent again is one only while its FAQ entry, the same "
        "text, is still pending)",
        422: _INVALID,
        503: _QUEUE_DOWN,
    },
)
DISCARD_ANSWERS = _answers(
    {200: "discarded: the suggestion, never published"},
    {404: _NO_DOCUMENT, 409: "the suggestion was already decided", 422: _INVALID},
)
SEARCH_ANSWERS = _answers(
    {200: "the passages search_knowledge would give the model (none when nothing clears the floor)"},
    {422: _INVALID},
)


def _principal() -> Principal:
    return access.caller().principal


def _db() -> Any:
    from mostrador.db.connection import get_connection

    return get_connection()


def _tenant() -> str:
    return access.tenant()


def _files() -> Any:
    from mostrador.knowledge.files import file_store_from_settings

    return file_store_from_settings(get_settings())


def _enqueue() -> library.Enqueue:
    from mostrador.knowledge.queue import queue_sender

    return queue_sender(get_settings().knowledge_queue_url)


def _embedding_model() -> str | None:
    from mostrador.knowledge.processing import configured_embedding_model

    return configured_embedding_model(get_settings())


def _answer(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# -- documents -------------------------------------------------------------------------------------


@router.post("/admin/knowledge/documents", middlewares=MANAGE, tags=TAGS, responses=UPLOAD_ANSWERS)
def upload_document(body: DocumentUpload) -> Response[dict[str, Any]]:
    """Upload a document (PDF, HTML, Markdown, text, DOCX; base64 in JSON, at most 4 MB). 202 with its id
    while it is processed; 200 `unchanged` for the same content under the same name; the same name with
    new content replaces the document (its old chunks serve until the new ones are ready)."""
    data = library.decode_upload(body.contentBase64)
    status, document = library.add_document(
        _db(),
        _files(),
        _enqueue(),
        _tenant(),
        filename=body.filename,
        data=data,
        title=body.title,
        principal=_principal(),
        embedding_model=_embedding_model(),
    )
    return _answer(status, document)


@router.get("/admin/knowledge/documents", middlewares=READ, tags=TAGS, responses=LIST_ANSWERS)
def list_documents(query: Annotated[DocumentQuery, Query()]) -> dict[str, Any]:
    """Uploaded documents with their status (pending, ready, failed with the reason), oldest first."""
    return library.list_documents(
        _db(), _tenant(), kind="file", status=query.status, cursor=query.cursor, limit=query.limit
    )


@router.get("/admin/knowledge/documents/<document_id>", middlewares=READ, tags=TAGS, responses=ONE_ANSWERS)
def get_document(document_id: DocumentId, query: Annotated[DocumentView, Query()]) -> dict[str, Any]:
    """One document or FAQ entry: status, error, chunk count; `chunks=N` adds its first N chunks."""
    return library.get_document(_db(), _tenant(), document_id, chunks=query.chunks)


@router.delete("/admin/knowledge/documents/<document_id>", middlewares=MANAGE, tags=TAGS, responses=DELETE_ANSWERS)
def delete_document(document_id: DocumentId) -> dict[str, Any]:
    """Delete a document: its chunks leave search at once, then its file is deleted."""
    return library.delete_document(_db(), _files(), _tenant(), document_id, _principal(), kind="file")


# -- FAQ entries -----------------------------------------------------------------------------------


@router.post("/admin/knowledge/faq", middlewares=MANAGE, tags=TAGS, responses=FAQ_ANSWERS)
def add_faq(body: FaqBody) -> Response[dict[str, Any]]:
    """Add an FAQ entry (one chunk: question and answer). 202 while it is embedded; 200 `unchanged` when
    the same entry exists."""
    status, faq = library.add_faq(
        _db(),
        _enqueue(),
        _tenant(),
        question=body.question,
        answer=body.answer,
        tags=body.tags,
        principal=_principal(),
        embedding_model=_embedding_model(),
    )
    return _answer(status, faq)


@router.get("/admin/knowledge/faq", middlewares=READ, tags=TAGS, responses=LIST_ANSWERS)
def list_faq(query: Annotated[DocumentQuery, Query()]) -> dict[str, Any]:
    """FAQ entries with their status, oldest first (the list's key is `documents`, as for files)."""
    return library.list_documents(
        _db(), _tenant(), kind="faq", status=query.status, cursor=query.cursor, limit=query.limit
    )


@router.put("/admin/knowledge/faq/<faq_id>", middlewares=MANAGE, tags=TAGS, responses=FAQ_UPDATE_ANSWERS)
def update_faq(faq_id: DocumentId, body: FaqBody) -> Response[dict[str, Any]]:
    """Change an FAQ entry; the old text serves until the new one is embedded."""
    status, faq = library.update_faq(
        _db(),
        _enqueue(),
        _tenant(),
        faq_id,
        question=body.question,
        answer=body.answer,
        tags=body.tags,
        principal=_principal(),
    )
    return _answer(status, faq)


@router.delete("/admin/knowledge/faq/<faq_id>", middlewares=MANAGE, tags=TAGS, responses=DELETE_ANSWERS)
def delete_faq(faq_id: DocumentId) -> dict[str, Any]:
    """Delete an FAQ entry."""
    return library.delete_document(_db(), None, _tenant(), faq_id, _principal(), kind="faq")


# -- suggestions from resolved escalations ---------------------------------------------------------


@router.get("/admin/knowledge/suggestions", middlewares=READ, tags=TAGS, responses=LIST_ANSWERS)
def list_suggestions(query: Annotated[SuggestionQuery, Query()]) -> dict[str, Any]:
    """FAQ entries suggested from resolved escalations' notes (waiting ones by default), oldest first."""
    status = None if query.status == "all" else query.status
    return library.list_suggestions(_db(), _tenant(), status=status, cursor=query.cursor, limit=query.limit)


@router.post(
    "/admin/knowledge/suggestions/<suggestion_id>/approve",
    middlewares=REVIEW,
    tags=TAGS,
    responses=DECIDE_ANSWERS,
)
def approve_suggestion(suggestion_id: DocumentId, body: ApproveBody) -> dict[str, Any]:
    """Publish a suggestion as an FAQ entry, as suggested or with the question/answer edited."""
    return library.approve_suggestion(
        _db(),
        _enqueue(),
        _tenant(),
        suggestion_id,
        question=body.question,
        answer=body.answer,
        tags=body.tags,
        principal=_principal(),
    )


@router.post(
    "/admin/knowledge/suggestions/<suggestion_id>/discard",
    middlewares=DISCARD,
    tags=TAGS,
    responses=DISCARD_ANSWERS,
)
def discard_suggestion(suggestion_id: DocumentId) -> dict[str, Any]:
    """Discard a suggestion; it is never published."""
    return library.discard_suggestion(_db(), _tenant(), suggestion_id, _principal())


# -- try a question --------------------------------------------------------------------------------


@router.get("/admin/knowledge/search", middlewares=READ, tags=TAGS, responses=SEARCH_ANSWERS)
def search(query: Annotated[KnowledgeSearchQuery, Query()]) -> dict[str, Any]:
    """What search_knowledge returns the reply model for this question (after the relevance floor)."""
    from mostrador.knowledge.search import search_knowledge
    from mostrador.llm.providers import embedder_for

    passages = search_knowledge(_db(), _tenant(), query.q, embedder=embedder_for(get_settings()), limit=query.limit)
    return {"passages": [p.as_tool_result() for p in passages], "total": len(passages)}
