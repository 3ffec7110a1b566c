"""Recomputing scores from a Run (runmodel.py): one module per metric family."""
