"""The admin dashboard at `/admin`: charts, the review queue, failed deliveries, model versions, drift."""
