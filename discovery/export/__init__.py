"""Discovery: export."""
