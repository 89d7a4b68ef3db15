"""The version of procflow: one place, below everything that reports it."""

__version__ = "0.1.0"
