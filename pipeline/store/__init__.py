"""Storage: the ORM models, the database and its migrations, client look-up, per-episode stage bookkeeping."""
