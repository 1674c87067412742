"""Local-run tooling: moto, table creation, stream polling, demo data. Never deployed."""
