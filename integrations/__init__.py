"""Helpdesk and Slack adapters: everything that speaks a vendor's wire format lives here."""
