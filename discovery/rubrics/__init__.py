"""Discovery: rubrics."""
