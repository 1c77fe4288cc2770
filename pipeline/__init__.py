"""Castmill: podcast episodes in, approved and scheduled social posts out."""

__version__ = "0.1.0"
