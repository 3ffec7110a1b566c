"""Parsers, one module per file family; each fills the runner-independent model in runmodel.py."""
