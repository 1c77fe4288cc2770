"""A client's data as one archive, and its erasure: what a client may ask for under data-protection law.

``scope`` names every row that belongs to a client (one list for both directions, so export and erasure
never disagree about what "the client's data" is), ``export.export_client`` writes it all into one zip,
``erase.erase_client`` removes it, rows and files, leaving one content-free record that it happened.
Both are for an admin only (``permissions.require_admin``).

The package reads every layer, so it sits at the top beside ``batch`` and ``jobs`` (and imports neither).
"""
