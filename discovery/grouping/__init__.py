"""Discovery: grouping."""
