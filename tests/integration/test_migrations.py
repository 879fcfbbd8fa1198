from mostrador.db.migrate import apply_migrations, migration_files


def test_every_migration_is_applied_once_and_rerunning_applies_nothing(db_url, db):
    names = [name for name, _ in migration_files()]
    assert names == sorted(names)
    applied = {row["name"] for row in db.execute("SELECT name FROM schema_migrations")}
    assert applied == set(names)
    assert apply_migrations(db_url) == []


def test_vector_extension_and_tenant_column_on_every_table(db):
    assert db.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
    tables = [r["tablename"] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    missing = [
        t
        for t in tables
        if t != "schema_migrations"
        and not db.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'tenant_id'", (t,)
        ).fetchone()
    ]
    assert missing == []


def test_accent_folding_matches_spanish_spellings(db):
    row = db.execute("SELECT mostrador_fold('Árbol CAÑÓN Pingüino') AS folded").fetchone()
    assert row["folded"] == "arbol canon pinguino"


def test_messages_recorded_as_human_agent_become_agent(db):
    # Rows written before migration 016 named a person in a platform's inbox `human_agent`.
    db.execute(
        "INSERT INTO conversations (tenant_id, conversation_id, channel)"
        " VALUES ('default', 'wa:1:584140000000', 'whatsapp')"
    )
    db.execute(
        "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, text)"
        " VALUES ('default', 'wa:1:584140000000', 'whatsapp', 'inbound', 'human_agent', 'Te atiendo yo'),"
        " ('default', 'wa:1:584140000000', 'whatsapp', 'inbound', 'customer', 'hola')"
    )
    sql = dict(migration_files())["016_agent_actor.sql"]
    db.execute(sql)
    actors = [row["actor"] for row in db.execute("SELECT actor FROM messages ORDER BY id")]
    assert actors == ["agent", "customer"]
