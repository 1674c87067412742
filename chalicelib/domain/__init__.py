"""Domain rules: tickets, contacts, ledger, setup, staff and their authentication."""
