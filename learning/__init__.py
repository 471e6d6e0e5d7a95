"""Learning from corrections: retraining, promotion, shadow and canary, drift, alerts and the clock's jobs.

Training code is imported only by the clock process (`learning.retrain`); the web app and workers import
at most `learning.shadow`, which loads models and never trains.
"""
