"""The `mostrador` command line: where a command goes without --url, and the web chat key it takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.cli import parse_args
from local.running_stack import forget_running_stack, local_webchat_key, running_stack, write_running_stack


@pytest.fixture
def no_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["chat"],
        ["ingest", "catalog.json"],
        ["knowledge", "list"],
        ["token", "list"],
        ["tenant", "list"],
    ],
)
def test_without_url_or_port_commands_go_to_the_running_stack_s_port(argv, tmp_path: Path, no_port) -> None:
    assert parse_args([*argv, "--data-dir", str(tmp_path)]).url == "http://127.0.0.1:3000"  # nothing running

    write_running_stack(tmp_path, "http://127.0.0.1:3817", "default", "wk_local")

    assert parse_args([*argv, "--data-dir", str(tmp_path)]).url == "http://127.0.0.1:3817"
    given = parse_args([*argv, "--data-dir", str(tmp_path), "--url", "https://shop.example"])
    assert given.url == "https://shop.example"


def test_port_wins_over_the_running_stack_s_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_running_stack(tmp_path, "http://127.0.0.1:3817", "default", "wk_local")
    monkeypatch.setenv("PORT", "4000")

    assert parse_args(["chat", "--data-dir", str(tmp_path)]).url == "http://127.0.0.1:4000"
    assert parse_args(["local", "--data-dir", str(tmp_path)]).port == 4000


def test_the_local_web_chat_key_is_only_for_the_local_stack_s_own_url(tmp_path: Path) -> None:
    assert local_webchat_key(tmp_path, "http://127.0.0.1:3817") is None  # no stack running
    write_running_stack(tmp_path, "http://127.0.0.1:3817", "default", "wk_local")

    assert local_webchat_key(tmp_path, "http://127.0.0.1:3817") == "wk_local"
    assert local_webchat_key(tmp_path, "http://localhost:3817/") == "wk_local"
    assert local_webchat_key(tmp_path, "http://127.0.0.1:3000") is None  # another port
    assert local_webchat_key(tmp_path, "https://shop.example") is None  # a deployment: its own key


def test_a_clean_stop_forgets_the_record_and_a_broken_one_is_ignored(tmp_path: Path, no_port) -> None:
    write_running_stack(tmp_path, "http://127.0.0.1:3817", "default", "wk_local")
    forget_running_stack(tmp_path)
    assert running_stack(tmp_path) == {}

    (tmp_path / "stack.json").write_text("{not json")
    assert running_stack(tmp_path) == {}
    assert parse_args(["chat", "--data-dir", str(tmp_path)]).url == "http://127.0.0.1:3000"


def test_migrate_takes_a_data_folder_for_the_embedded_database(tmp_path: Path) -> None:
    args = parse_args(["migrate", "--data-dir", str(tmp_path)])

    assert args.database_url is None and args.data_dir == str(tmp_path)
