"""Where the raw uploaded files live: an S3 bucket on AWS (KNOWLEDGE_BUCKET: encrypted, private,
versioned; infra/knowledge.py), a folder locally (KNOWLEDGE_FILES_DIR, under the data folder).

One object per document, `<tenant>/documents/<document id><extension>`: a new version of the file
overwrites it (on S3 the previous version is kept as a noncurrent version until the lifecycle rule
expires it). The queue message names the content's SHA-256, so a worker that reads a newer version
than its message knows it is stale.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mostrador.config import Settings

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class FileMissing(Exception):
    pass


class FileStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def document_key(tenant_id: str, document_id: int, extension: str) -> str:
    return f"{_SAFE.sub('_', tenant_id)}/documents/{document_id}{_SAFE.sub('', extension.lower())}"


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key outside the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers see the old file or the new one, never half of one

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3FileStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise FileMissing(key) from None
        body: bytes = response["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


def file_store_from_settings(settings: Settings) -> FileStore:
    if settings.knowledge_bucket:
        return S3FileStore(settings.knowledge_bucket)
    if settings.knowledge_files_dir:
        return LocalFileStore(Path(settings.knowledge_files_dir))
    raise RuntimeError("Neither KNOWLEDGE_BUCKET nor KNOWLEDGE_FILES_DIR is configured: uploaded files have no home")
