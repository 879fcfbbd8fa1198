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


@pytest.mark.parametrize(
    "argv",
    [["chat"], ["ingest", "catalog.json"], ["knowledge", "list"], ["token", "list"], ["tenant", "add", "beta"]],
)
def test_every_command_takes_the_data_folder_from_mostrador_data_dir(
    argv, tmp_path: Path, no_port, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack started with `--data-dir D` is found from any folder once MOSTRADOR_DATA_DIR=D."""
    write_running_stack(tmp_path, "http://127.0.0.1:3817", "default", "wk_local")
    monkeypatch.setenv("MOSTRADOR_DATA_DIR", str(tmp_path))

    args = parse_args(argv)

    assert (args.data_dir, args.url) == (str(tmp_path), "http://127.0.0.1:3817")
    assert parse_args([*argv, "--data-dir", ".elsewhere"]).data_dir == ".elsewhere"  # the option wins


def test_local_and_migrate_take_mostrador_data_dir_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSTRADOR_DATA_DIR", str(tmp_path))
    assert parse_args(["local"]).data_dir == parse_args(["migrate"]).data_dir == str(tmp_path)
    monkeypatch.delenv("MOSTRADOR_DATA_DIR")
    assert parse_args(["local"]).data_dir == ".local"


@pytest.mark.parametrize(
    "argv", [["chat"], ["ingest"], ["knowledge", "list"], ["token", "list"], ["tenant", "add"], ["tenant", "list"]]
)
def test_help_names_the_data_folder_option(argv, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args([*argv, "--help"])
    shown = capsys.readouterr().out
    assert "--data-dir" in shown and "MOSTRADOR_DATA_DIR" in shown
