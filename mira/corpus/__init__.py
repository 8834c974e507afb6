"""Build a real multi-source corpus (Document v1 JSONL/Parquet) from what a Debian machine holds.

``sources`` says where each source's files are, ``build`` samples them into documents (balanced,
seeded, reproducible), ``stats`` summarises a corpus file; ``cli`` is ``mira corpus``.
"""
