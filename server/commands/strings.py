"""Placeholder; commands land here."""
