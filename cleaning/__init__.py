"""News ingestion pipeline: discover, fetch, clean, dedup, publish."""
