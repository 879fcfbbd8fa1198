"""Where a document's files live (mostrador.knowledge.files), on the local store (a real folder): one
object per version named by its content, the earlier one-object-per-document layout still read, and
the removal of the other versions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mostrador.knowledge.files import (
    FileMissing,
    LocalFileStore,
    read_version,
    remove_other_versions,
    single_key,
    stored_keys,
    version_key,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_each_version_has_its_own_key_named_by_its_content() -> None:
    assert version_key("default", 7, "ab" * 32, ".PDF") == f"default/documents/7/{'ab' * 32}.pdf"
    assert single_key("tienda/1", 7, ".md") == "tienda_1/documents/7.md"


def test_listing_is_by_plain_prefix_as_on_s3(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    for key in ("t/documents/1/a.md", "t/documents/1/b.md", "t/documents/10/c.md", "t/documents/1.md", "u/x.md"):
        files.put(key, b"x", "text/markdown")

    assert files.keys("t/documents/1") == [
        "t/documents/1.md",
        "t/documents/1/a.md",
        "t/documents/1/b.md",
        "t/documents/10/c.md",
    ]
    assert files.keys("t/documents/1/") == ["t/documents/1/a.md", "t/documents/1/b.md"]
    assert files.keys("t/none/") == []
    # Document 1's objects, not document 10's.
    assert stored_keys(files, "t", 1, ".md") == ["t/documents/1.md", "t/documents/1/a.md", "t/documents/1/b.md"]


def test_a_version_is_read_by_its_content_and_the_earlier_single_object_serves_only_its_own(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    old, new = b"version vieja", b"version nueva"
    files.put(single_key("t", 3, ".txt"), old, "text/plain")
    files.put(version_key("t", 3, sha(new), ".txt"), new, "text/plain")

    assert read_version(files, "t", 3, sha(new), ".txt") == new
    assert read_version(files, "t", 3, sha(old), ".txt") == old  # stored before content names
    with pytest.raises(FileMissing):
        read_version(files, "t", 3, sha(b"otra"), ".txt")


def test_removing_the_other_versions_keeps_this_one_wherever_it_is_stored(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path)
    one, two = b"uno", b"dos"
    files.put(single_key("t", 3, ".txt"), one, "text/plain")
    files.put(version_key("t", 3, sha(two), ".txt"), two, "text/plain")
    files.put(version_key("t", 30, sha(two), ".txt"), two, "text/plain")  # another document

    # The version in service is the one of the earlier layout: it stays.
    assert remove_other_versions(files, "t", 3, sha(one), ".txt") == [version_key("t", 3, sha(two), ".txt")]
    assert stored_keys(files, "t", 3, ".txt") == [single_key("t", 3, ".txt")]

    files.put(version_key("t", 3, sha(two), ".txt"), two, "text/plain")
    assert remove_other_versions(files, "t", 3, sha(two), ".txt") == [single_key("t", 3, ".txt")]
    assert stored_keys(files, "t", 3, ".txt") == [version_key("t", 3, sha(two), ".txt")]
    assert files.get(version_key("t", 30, sha(two), ".txt")) == two
