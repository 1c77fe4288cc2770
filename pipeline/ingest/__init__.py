"""Stage 1: files, folders and RSS feeds become episodes (``stage.run_stage``)."""
