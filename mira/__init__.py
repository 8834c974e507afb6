"""mira: source-aware data selection for LLM mid-training (the MIRA method)."""

__version__ = "0.1.0"
