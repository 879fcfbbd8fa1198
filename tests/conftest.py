"""Session-wide real parts: an embedded PostgreSQL with pgvector (pgserver) and an SQS endpoint
(moto's server on 127.0.0.1, spoken to by the real boto3)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# Handlers and the shared package read these at import/cold start; set them before anything imports.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MostradorTest")
os.environ.setdefault("POWERTOOLS_DEV", "false")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
# Every message answered at once unless a test is about the burst quiet window (it sets its own).
os.environ.setdefault("REPLY_BURST_WINDOW_SECONDS", "0")
for _name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "LLM_PROVIDER", "EMBEDDING_PROVIDER", "DATABASE_URL"):
    os.environ.pop(_name, None)

TABLES_KEPT = {"schema_migrations"}

# Fixtures of fakes for outside systems, and of the catalog pipeline, shared across test modules.
pytest_plugins = ["tests.fakes.llm_server", "tests.integration.catalog_support"]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):
    from local.embedded_postgres import start_embedded_postgres

    server = start_embedded_postgres(tmp_path_factory.mktemp("pg"))
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def db_url(pg_server) -> str:
    from mostrador.db.migrate import apply_migrations

    name = f"mostrador_test_{uuid.uuid4().hex[:8]}"
    pg_server.psql(f"CREATE DATABASE {name};")
    url = pg_server.get_uri(name)
    apply_migrations(url)
    return url


@pytest.fixture
def db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A clean database (every table emptied) and DATABASE_URL pointing at it."""
    from mostrador.config import reset_settings
    from mostrador.db.connection import close_connection, connect

    monkeypatch.setenv("DATABASE_URL", db_url)
    reset_settings()
    close_connection()
    conn = connect(db_url)
    tables = [
        row["tablename"]
        for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if row["tablename"] not in TABLES_KEPT
    ]
    if tables:
        conn.execute("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE")
    from mostrador.catalog.search import forget_synonyms

    forget_synonyms()  # this process's copy of the synonyms table just emptied
    yield conn
    conn.close()
    close_connection()
    reset_settings()


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sqs(sqs_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    """A boto3 SQS client on the local endpoint; handlers' own clients see the same endpoint."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_endpoint)
    from mostrador import queues

    queues.reset_clients()
    client = boto3.client("sqs", endpoint_url=sqs_endpoint, region_name="us-east-1")
    yield client
    queues.reset_clients()


@pytest.fixture
def secrets_manager(sqs_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    """A boto3 Secrets Manager client on moto's local endpoint; config's reads (Powertools) go there too."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import clear_caches

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sqs_endpoint)
    clear_caches()  # Powertools keeps its client and values per process
    yield boto3.client("secretsmanager", endpoint_url=sqs_endpoint, region_name="us-east-1")
    clear_caches()


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from mostrador.config import reset_settings

    reset_settings()
    yield
    reset_settings()
