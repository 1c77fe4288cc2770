from sqlalchemy import create_engine, text

from tests.pg_server import PostgresServer


def test_pg_server_starts_and_answers():
    with PostgresServer() as pg:
        assert pg.url.startswith("postgresql+psycopg://castmill@127.0.0.1:")
        engine = create_engine(pg.url)
        try:
            with engine.connect() as conn:
                version = conn.execute(text("select version()")).scalar_one()
                db = conn.execute(text("select current_database()")).scalar_one()
        finally:
            engine.dispose()
        assert "PostgreSQL" in version
        assert db == "castmill"
        tmpdir = pg.tmpdir
    import os

    assert tmpdir is not None and not os.path.exists(tmpdir)
