"""The one scoring engine, shared by ``mira filter``, ``mira score`` and export calibration.

admit (bytes in, Document or dead-letter reason out; never raises) -> route (source -> group,
threshold present) -> infer (tokenize, call a backend, check every output shape, isolate a
document the tokenizer or the model cannot take) -> decide (pure).  Callers keep only their own
I/O, batching and delivery.
"""
