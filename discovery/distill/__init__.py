"""Discovery: distill."""
