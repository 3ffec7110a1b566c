"""The four measurement modes; each takes a RunContext and returns the results.txt lines."""
