"""Helpers shared by the test suite (fixture-tree builder)."""
