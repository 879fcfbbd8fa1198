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
