"""submit: measure, check, package and report MLPerf Tiny submissions."""

__version__ = "0.1.0"
