"""Translators between the HTTP schemas and the solver's types."""
