"""Publishing: the scheduler's claim loop, attempts and reconciliation, credentials, one publisher per
platform (``publishers/``), notifications, engagement metrics and weekly reports."""
