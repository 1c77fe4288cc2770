"""Foundations every layer uses: errors, the one vocabulary, time helpers, settings, progress, the LLM client."""
