"""Learning from corrections: retraining, promotion, shadow and canary, drift, alerts and the clock's jobs.

Training code is imported only where the clock runs (`learning.retrain`, through `learning.jobs`); the web
app and workers import `learning.shadow` (loads models) and `learning.rerouting` (records corrections), which
never train.
"""
