"""Persistence: the PynamoDB models of the single table, key layout and cursors."""
