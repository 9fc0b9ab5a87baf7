"""Prometheus metrics of one app (GET /metrics). Each app has its own registry: a test
process builds many apps, and a server's figures are its own.

The hooks the rest of the app calls (counts.py, observe.py) import no Prometheus code: what
they record is plain numbers, read when Prometheus scrapes.
"""
