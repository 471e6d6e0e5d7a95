"""Freshdesk: webhook verification and parsing."""
