"""Webhook receivers and the processing pipeline that turns a stored delivery into a routed ticket."""
