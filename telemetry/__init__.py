"""Observability: Prometheus metrics, the store's gauges at scrape time, and request ids in log lines."""
