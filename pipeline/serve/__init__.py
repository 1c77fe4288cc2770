"""Castmill as a long-running service: the dashboard, scheduler, workers and daily backup under one
supervisor (`castmill serve`), and the systemd units and Caddy site that run it on a server."""
