"""mira scorer."""
