"""Zendesk: webhook verification and parsing."""
