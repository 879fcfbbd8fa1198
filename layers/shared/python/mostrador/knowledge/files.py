"""Where the raw uploaded files live: an S3 bucket on AWS (KNOWLEDGE_BUCKET: encrypted, private,
versioned; infra/knowledge.py), a folder locally (KNOWLEDGE_FILES_DIR, under the data folder).

One object per version of a document, named by its content: `<tenant>/documents/<id>/<sha256><ext>`.
The queue message names the SHA-256, so the worker reads exactly the version its message is about,
whatever was uploaded since; two uploads of one name never write the same object. Once the worker has
processed a version it removes the document's other versions (on S3 they stay as noncurrent versions
until the lifecycle rule expires them); deleting a document removes them all.

Before content names a document had one object, `<tenant>/documents/<id><ext>`, overwritten by each
upload: it is still read (when its content is the version wanted) and removed with the others.
"""

from __future__ import annotations

import hashlib
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

    def keys(self, prefix: str) -> list[str]:
        """The stored keys that start with `prefix` (as S3 lists them: a plain string prefix)."""
        ...


def _documents(tenant_id: str) -> str:
    return f"{_SAFE.sub('_', tenant_id)}/documents/"


def _extension(extension: str) -> str:
    return _SAFE.sub("", extension.lower())


def version_key(tenant_id: str, document_id: int, sha256: str, extension: str) -> str:
    return f"{_documents(tenant_id)}{document_id}/{sha256}{_extension(extension)}"


def single_key(tenant_id: str, document_id: int, extension: str) -> str:
    """The key of the layout before content names (one object per document)."""
    return f"{_documents(tenant_id)}{document_id}{_extension(extension)}"


def read_version(files: FileStore, tenant_id: str, document_id: int, sha256: str, extension: str) -> bytes:
    """The content of this version (FileMissing when it is not stored); an object of the earlier layout
    serves when it holds that content."""
    try:
        return files.get(version_key(tenant_id, document_id, sha256, extension))
    except FileMissing:
        data = files.get(single_key(tenant_id, document_id, extension))
        if hashlib.sha256(data).hexdigest() != sha256:
            raise FileMissing(version_key(tenant_id, document_id, sha256, extension)) from None
        return data


def stored_keys(files: FileStore, tenant_id: str, document_id: int, extension: str) -> list[str]:
    """Every stored object of the document: its versions, and its object of the earlier layout if any."""
    folder, single = f"{_documents(tenant_id)}{document_id}/", single_key(tenant_id, document_id, extension)
    # One listing finds both (the prefix also matches documents 10, 11… : filtered out).
    listed = files.keys(f"{_documents(tenant_id)}{document_id}")
    return [key for key in listed if key.startswith(folder) or key == single]


def remove_other_versions(files: FileStore, tenant_id: str, document_id: int, sha256: str, extension: str) -> list[str]:
    """Delete the document's objects other than this version's; the removed keys. The caller holds the
    document's row locked, so no upload is between storing a newer file and naming it in the row."""
    keep = version_key(tenant_id, document_id, sha256, extension)
    stored = stored_keys(files, tenant_id, document_id, extension)
    single = single_key(tenant_id, document_id, extension)
    if keep not in stored:
        stored = [key for key in stored if key != single]  # this version was read from the earlier layout's object
    removed = [key for key in stored if key != keep]
    for key in removed:
        files.delete(key)
    return removed


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

    def keys(self, prefix: str) -> list[str]:
        folder, _, start = prefix.rpartition("/")
        base = self._path(folder) if folder else self.root.resolve()
        if not base.is_dir():
            return []
        root = self.root.resolve()
        found: list[Path] = []
        for entry in base.iterdir():
            if not entry.name.startswith(start):
                continue
            if entry.is_dir():
                found.extend(path for path in entry.rglob("*") if path.is_file())
            else:
                found.append(entry)
        return sorted(path.relative_to(root).as_posix() for path in found)


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

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


def file_store_from_settings(settings: Settings) -> FileStore:
    if settings.knowledge_bucket:
        return S3FileStore(settings.knowledge_bucket)
    if settings.knowledge_files_dir:
        return LocalFileStore(Path(settings.knowledge_files_dir))
    raise RuntimeError("Neither KNOWLEDGE_BUCKET nor KNOWLEDGE_FILES_DIR is configured: uploaded files have no home")
