"""Discovery: annotation."""
