"""Persistence: SQLModel tables and the one Store API that opens database sessions."""
