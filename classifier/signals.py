"""Engineered features beside the words: length, readability, urgency, sentiment, language, time, tier.

They feed the tree members and are returned as derived fields (language, sentiment) so a route can tag
them. Everything here is offline and deterministic (langdetect is seeded once on import).
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from langdetect import DetectorFactory, LangDetectException, detector_factory
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

DetectorFactory.seed = 0

LANGUAGES = ("en", "de", "es", "fr", "pt", "it", "nl")
LANGUAGE_SAMPLE_CHARS = 200  # a sentence or two decide the language; langdetect's cost grows with length
SENTIMENT_SAMPLE_CHARS = 400  # the opening of the message carries its tone and bounds VADER's cost
LANGUAGE_TRIALS = 2  # langdetect's default 7 random trials cost 2.7 ms a ticket; 2 gave the same answers
BUSINESS_HOURS = range(9, 18)
TIER_RANKS = {
    "free": 0, "trial": 0, "basic": 1, "standard": 1, "starter": 1, "pro": 2, "professional": 2,
    "business": 2, "premium": 3, "gold": 3, "enterprise": 4, "platinum": 4, "vip": 4,
}
_URGENT_WORDS = re.compile(
    r"\b(urgent|urgently|asap|immediately|emergency|critical|outage|down|blocker|blocking|dringend|sofort"
    r"|urgente|inmediato|imediato|immédiatement|kritisch|crítico|critique)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]+")
_VOWEL_GROUP = re.compile(r"[aeiouyäöüáéíóúàèìòùâêîôûãõ]+", re.IGNORECASE)

FEATURE_NAMES = (
    ["log_chars", "log_words", "mean_word_len", "readability", "urgent_words", "exclamations",
     "triple_bang", "capital_share", "sentiment", "has_time", "hour_sin", "hour_cos", "weekday",
     "business_hours", "tier_rank"]
    + [f"lang_{code}" for code in LANGUAGES]
    + ["lang_other"]
)


@lru_cache(maxsize=1)
def _sentiment_analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def detect_language(text: str) -> str:
    """ISO code of the text's language, or 'unknown' for text langdetect cannot judge."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if not _WORD.search(sample):
        return "unknown"
    try:
        detector_factory.init_factory()
        detector = detector_factory._factory.create()
        detector.n_trial = LANGUAGE_TRIALS
        detector.append(sample)
        return detector.detect()
    except LangDetectException:
        return "unknown"


def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1] (an English lexicon; other languages score near 0)."""
    return float(_sentiment_analyzer().polarity_scores(text[:SENTIMENT_SAMPLE_CHARS])["compound"])


def readability(words: list[str], sentences: int) -> float:
    """Flesch reading ease, clipped to [-50, 120] (syllables counted as vowel groups)."""
    if not words:
        return 0.0
    syllables = sum(max(1, len(_VOWEL_GROUP.findall(word))) for word in words)
    score = 206.835 - 1.015 * len(words) / max(1, sentences) - 84.6 * syllables / len(words)
    return float(min(120.0, max(-50.0, score)))


def time_features(created_at: datetime | None, timezone: str) -> list[float]:
    if created_at is None:
        return [0.0, 0.0, 0.0, -1.0, 0.0]
    local = created_at.astimezone(ZoneInfo(timezone)) if created_at.tzinfo else created_at
    angle = 2 * math.pi * (local.hour + local.minute / 60) / 24
    in_hours = local.weekday() < 5 and local.hour in BUSINESS_HOURS
    return [1.0, math.sin(angle), math.cos(angle), float(local.weekday()), float(in_hours)]


def tier_rank(tier: str | None) -> float:
    if not tier:
        return -1.0
    return float(TIER_RANKS.get(str(tier).strip().lower(), 1))


def signal_vector(text: str, language: str, mood: float, created_at: datetime | None,
                  tier: str | None, timezone: str) -> np.ndarray:
    """The engineered features of one ticket, in `FEATURE_NAMES` order."""
    words = _WORD.findall(text)
    letters = [char for char in text if char.isalpha()]
    capitals = sum(char.isupper() for char in letters) / len(letters) if letters else 0.0
    sentences = len(_SENTENCE_END.findall(text)) or 1
    values = [
        math.log1p(len(text)), math.log1p(len(words)),
        sum(map(len, words)) / len(words) if words else 0.0,
        readability(words, sentences),
        float(len(_URGENT_WORDS.findall(text))), float(text.count("!")), float("!!!" in text), capitals,
        mood,
        *time_features(created_at, timezone),
        tier_rank(tier),
    ]
    values += [float(language == code) for code in LANGUAGES]
    values.append(float(language not in LANGUAGES))
    return np.asarray(values, dtype=np.float32)
