"""Alert sinks and rendering. Knows nothing of the database or crawlers."""
