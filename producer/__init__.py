"""mira producer."""
