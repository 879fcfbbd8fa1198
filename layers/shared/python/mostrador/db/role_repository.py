"""SQL for the database role the deployed functions connect as (the migrate function keeps it in step).

The role may read and write rows (SELECT, INSERT, UPDATE, DELETE, sequences) and nothing else: no DDL, no
TRUNCATE, no ownership. The schema stays the master user's, which only the migrate function uses.
Default privileges cover tables that later migrations (run by the master user) create. The audit log is
append-only for the role: it may add entries and read them, never change or remove one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mostrador.db.connection import Connection


def ensure_app_role(conn: Connection, role: str, password: str) -> None:
    """Create the role, or set its password again (a changed secret takes effect), and grant DML rights.

    The password travels as libpq's SCRAM verifier, never in clear text: a failing statement is written to
    the server log with its text.
    """
    from psycopg import sql

    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
    statement = "ALTER ROLE {} WITH LOGIN PASSWORD {}" if exists else "CREATE ROLE {} WITH LOGIN PASSWORD {}"
    role_name = sql.Identifier(role)
    with conn.transaction():
        conn.execute(sql.SQL(statement).format(role_name, sql.Literal(verifier)))
        grants = (
            "GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",
            "GRANT USAGE ON SCHEMA public TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
        )
        database = sql.Identifier(conn.info.dbname)
        for grant in grants:
            conn.execute(sql.SQL(grant).format(database=database, role=role_name))
        audit_log = conn.execute("SELECT to_regclass('audit_log') IS NOT NULL AS present").fetchone()
        if audit_log is not None and audit_log["present"]:
            conn.execute(sql.SQL("REVOKE UPDATE, DELETE ON audit_log FROM {}").format(role_name))
