"""What the knowledge routes of the admin API accept (docs/knowledge.md); validated by the admin
function's resolver (422 naming the field) and published in its OpenAPI document, with the shapes of
their answers (documentation only: the routes answer dicts built by mostrador.knowledge.library)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TAGS = 20
MAX_TAG_CHARS = 64
# A tag is a short label ("envíos", "garantía"), not a second answer.
Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentUpload(_Strict):
    filename: str = Field(
        min_length=1, max_length=200, description="the file's name with its extension (.pdf .html .md .txt .docx)"
    )
    contentBase64: str = Field(  # noqa: N815 (JSON name)
        description="the file's bytes, base64-encoded (at most 4 MB before encoding)"
    )
    title: str | None = Field(None, max_length=200, description="shown to the model; default: the file name")


class DocumentQuery(_Strict):
    status: Literal["pending", "ready", "failed"] | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class DocumentView(_Strict):
    chunks: int = Field(0, ge=0, le=500, description="also return the first N chunks")


class FaqBody(_Strict):
    question: str = Field(min_length=3, max_length=1000)
    answer: str = Field(min_length=1, max_length=4000)
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS, description=f"at most {MAX_TAGS}, each 1-{MAX_TAG_CHARS} characters"
    )


class SuggestionQuery(_Strict):
    status: Literal["suggested", "approved", "discarded", "all"] = "suggested"
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class ApproveBody(_Strict):
    question: str | None = Field(None, min_length=3, max_length=1000, description="edited question (default: as is)")
    answer: str | None = Field(None, min_length=1, max_length=4000, description="edited answer (default: the note)")
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS, description=f"at most {MAX_TAGS}, each 1-{MAX_TAG_CHARS} characters"
    )


class KnowledgeSearchQuery(_Strict):
    q: str = Field(min_length=1, max_length=500, description="a customer's question")
    limit: int = Field(3, ge=1, le=5)


# -- answers (for the OpenAPI document) ------------------------------------------------------------


class ErrorAnswer(BaseModel):
    error: str = Field(description="what went wrong and what to do about it")


class KnowledgeDocumentAnswer(BaseModel):
    """A document or FAQ entry (mostrador.knowledge.library.document_json)."""

    id: int
    kind: Literal["file", "faq"]
    title: str
    format: str
    status: Literal["pending", "ready", "failed"]
    error: str | None = Field(None, description="why it failed, written for the person who uploaded it")
    sha256: str = Field(description="the latest uploaded content")
    chunks: int | None = None
    servingSha256: str | None = Field(  # noqa: N815 (JSON name)
        None, description="the content whose chunks are in service (the previous one while a new one is pending)"
    )
    embeddingModel: str | None = None  # noqa: N815
    createdAt: str | None = None  # noqa: N815
    updatedAt: str | None = None  # noqa: N815
    processedAt: str | None = None  # noqa: N815
    name: str | None = Field(None, description="documents: the file name (its identity)")
    sizeBytes: int | None = None  # noqa: N815
    question: str | None = Field(None, description="FAQ entries")
    answer: str | None = None
    tags: list[str] | None = None
    unchanged: bool | None = Field(None, description="the same content was already there")
    replaced: bool | None = Field(None, description="uploads: a document of this name existed and is replaced")
