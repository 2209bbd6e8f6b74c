"""Shared foundation: extensions, configuration, transactions, domain errors."""
