"""The embedded ensemble classifier.

Only the serving side is imported from here (ticket, prediction, artifact loading); the web app never
imports training code, which lives in `classifier.training` and friends.
"""
from classifier.ticket import Ticket
from classifier.prediction import Prediction

__all__ = ["Ticket", "Prediction"]
