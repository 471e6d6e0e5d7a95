"""HTTP surface besides the webhooks: predict API, health, and JSON errors."""
