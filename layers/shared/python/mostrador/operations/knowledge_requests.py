"""What the knowledge routes of the admin API accept (docs/knowledge.md); validated by the admin
function's resolver (422 naming the field) and published in its OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    tags: list[str] = Field(default_factory=list, max_length=20)


class SuggestionQuery(_Strict):
    status: Literal["suggested", "approved", "discarded", "all"] = "suggested"
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class ApproveBody(_Strict):
    question: str | None = Field(None, min_length=3, max_length=1000, description="edited question (default: as is)")
    answer: str | None = Field(None, min_length=1, max_length=4000, description="edited answer (default: the note)")
    tags: list[str] = Field(default_factory=list, max_length=20)


class KnowledgeSearchQuery(_Strict):
    q: str = Field(min_length=1, max_length=500, description="a customer's question")
    limit: int = Field(3, ge=1, le=5)
