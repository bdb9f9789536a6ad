"""Read-only collectors, one module per protocol (interface.py: the shared contract)."""
