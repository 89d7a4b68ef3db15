"""Event logs: reading CSV/XES logs, writing CSV, conformance and calibration."""
