"""mira discovery."""
