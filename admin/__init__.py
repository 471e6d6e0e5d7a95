"""The admin dashboard at `/admin`: what triage is doing (charts, accuracy from confirmed tickets, backlog and
latency, drift) and what an operator can do about it (route a waiting ticket, retry or drop a dead letter,
promote or roll back a model version)."""
