"""Episodes processed as jobs on a PostgreSQL task queue (procrastinate), by workers on any machine."""
