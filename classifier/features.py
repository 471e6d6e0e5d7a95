"""From tickets to the matrices the members read: cleaned text, TF-IDF, signals and embeddings.

Fitted once per training run on the training texts only (no labels), shared by every label's models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from classifier.email_text import SENDER_TOKEN_PREFIX
from classifier.embeddings import TextEncoder
from classifier.signals import detect_language, sentiment, signal_vector
from classifier.text import TEXT_NORMALISATION, normalise
from classifier.ticket import Ticket


@dataclass
class PreparedTickets:
    """Per-ticket facts computed once: cleaned text, language, sentiment, engineered signals."""

    texts: list[str]
    languages: list[str]
    sentiments: list[float]
    signals: np.ndarray


@dataclass
class FeatureViews:
    sparse: sp.csr_matrix  # word + char TF-IDF + signals scaled to [0, SIGNAL_WEIGHT] (linear members)
    trees: sp.csr_matrix  # word TF-IDF + signals scaled to [0, 1] (chi2-selected inside tree members)
    embedding: np.ndarray | None  # sentence embedding + standardised signals
    words: sp.csr_matrix  # word TF-IDF alone, for explanations and the plain logistic regression
    text_width: int = 0  # word + char TF-IDF columns at the start of `sparse` (the plain SVM's `text` view)

    def view(self, name: str):
        """A view by name; `text` (word + char TF-IDF without the signals) is cut from `sparse` when asked for."""
        if name == "text":
            return self.sparse[:, :self.text_width]
        return getattr(self, name)


def prepare(tickets: list[Ticket], timezone: str, text_normalisation: int = TEXT_NORMALISATION) -> PreparedTickets:
    """The one way text enters a model: training, prediction, drift centroids and reports all come through here.

    `text_normalisation` is the model's (`TicketClassifier.text_normalisation`); the default, the current version,
    is for a model about to be trained."""
    texts, languages, moods, rows = [], [], [], []
    for ticket in tickets:
        text = normalise(ticket.text, ticket.sender_domain, text_normalisation)
        language = ticket.language or detect_language(text)
        mood = sentiment(text)
        texts.append(text)
        languages.append(language)
        moods.append(mood)
        rows.append(signal_vector(text, language, mood, ticket.created_at, ticket.tier, timezone))
    return PreparedTickets(texts, languages, moods, np.vstack(rows) if rows else np.zeros((0, 1)))


SIGNAL_WEIGHT = 0.3  # signals beside unit-length TF-IDF rows: larger values stall liblinear's solver


class TicketFeaturizer(BaseEstimator, TransformerMixin):
    def __init__(self, timezone: str = "UTC", word_max_features: int = 200_000,
                 char_max_features: int = 150_000, use_embeddings: bool = True,
                 embedding_model: str | None = None):
        self.timezone = timezone
        self.word_max_features = word_max_features
        self.char_max_features = char_max_features
        self.use_embeddings = use_embeddings
        self.embedding_model = embedding_model

    def fit(self, prepared: PreparedTickets, embeddings: np.ndarray | None = None):
        texts = prepared.texts
        few = len(texts) < 200
        self.words_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1 if few else 2,
                                      max_features=self.word_max_features, dtype=np.float32)
        self.chars_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                      min_df=1 if few else 3, max_features=self.char_max_features,
                                      dtype=np.float32)
        self.words_.fit(texts)
        self.chars_.fit(texts)
        self.standard_ = StandardScaler().fit(prepared.signals)
        self.unit_ = MinMaxScaler(clip=True).fit(prepared.signals)
        self.encoder_ = TextEncoder(self.embedding_model) if self.use_embeddings and self.embedding_model else None
        return self

    def embedding_view(self, signals: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """The embedding member's input for tickets already encoded: their vectors beside standardised signals."""
        return np.hstack([vectors, self.standard_.transform(signals).astype(np.float32)])

    def drop_embeddings(self) -> None:
        """Training found that embeddings do not pay (classifier.embedding_probe): predict never computes them."""
        self.use_embeddings, self.embedding_model, self.encoder_ = False, None, None

    def encode(self, prepared: PreparedTickets) -> np.ndarray | None:
        return self.encoder_.encode(prepared.texts) if self.encoder_ is not None else None

    def transform(self, prepared: PreparedTickets, embeddings: np.ndarray | None = None,
                  need_embedding: bool = True) -> FeatureViews:
        words = self.words_.transform(prepared.texts)
        chars = self.chars_.transform(prepared.texts)
        standard = self.standard_.transform(prepared.signals).astype(np.float32)
        unit = self.unit_.transform(prepared.signals).astype(np.float32)
        sparse = sp.hstack([words, chars, sp.csr_matrix(unit * SIGNAL_WEIGHT)], format="csr")
        trees = sp.hstack([words, sp.csr_matrix(unit)], format="csr")
        embedding = None
        if need_embedding and self.encoder_ is not None:
            vectors = embeddings if embeddings is not None else self.encode(prepared)
            embedding = np.hstack([vectors, standard])
        return FeatureViews(sparse=sparse, trees=trees, embedding=embedding, words=words,
                            text_width=words.shape[1] + chars.shape[1])

    def vocabulary_coverage(self, texts: list[str]) -> list[float]:
        """Share of a text's distinct content words that training saw (0.0 for none, or no words at all).

        A confident probability over words the model never met is a guess: "VPN does not connect" scored
        by a model trained on shop questions. The pipeline sends low-coverage tickets to review."""
        vocabulary, tokenize, preprocess = self.words_.vocabulary_, self.words_.build_tokenizer(), \
            self.words_.build_preprocessor()
        shares = []
        for text in texts:
            words = {w for w in tokenize(preprocess(text))
                     if len(w) > 1 and w not in ENGLISH_STOP_WORDS and not w.startswith(SENDER_TOKEN_PREFIX)}
            shares.append(sum(w in vocabulary for w in words) / len(words) if words else 0.0)
        return shares

    def term_names(self) -> np.ndarray:
        return self.words_.get_feature_names_out()
