"""Shared fixtures live in tests/fixtures/, one module per area, loaded as plugins."""

pytest_plugins = [
    "tests.fixtures.corpus",
    "tests.fixtures.services",
    "tests.fixtures.security",
    "tests.fixtures.teacher",
]
