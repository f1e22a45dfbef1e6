"""The service's own records: the hash-chained audit trail (`audit.py`), the model store's clean-up
(`housekeeping.py`) and the readiness of its stores (`readiness.py`).

May import no other room: every room may import this one.
"""
