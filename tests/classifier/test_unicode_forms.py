"""The same text gets the same answer (issue 20): every Unicode form of a ticket, on a trained model; and a model
trained before text normalisation existed (the bundled starter) still loads and answers exactly as it did."""
from __future__ import annotations

import copy
import json
import random
import unicodedata

import pandas as pd
import pytest

from classifier.artifact import MANIFEST_FILE, ArtifactError, load_model, save_model
from classifier.dataset import load_labeled
from classifier.features import prepare
from classifier.normalisation import VERSION
from classifier.ticket import Ticket
from classifier.training import TrainOptions, fit_classifier

# Three queues in French, German and Spanish, their words full of accents, ß and ligature-prone letters.
WORDS = {
    "Billing": ["remboursement", "facture", "reçu", "débité", "Rückerstattung", "Gebühr", "Überweisung",
                "reembolso", "cobró", "tarjeta de crédito"],
    "Access": ["mot de passe", "connexion", "bloqué", "réinitialiser", "Passwort", "Anmeldung", "gesperrt",
               "contraseña", "sesión", "autenticación"],
    "Delivery": ["livraison", "colis", "reçu le paquet", "adresse", "Lieferung", "Straße", "Sendung verspätet",
                 "envío", "dirección", "paquete dañado"],
}
FILLER = ["s'il vous plaît", "merci", "bonjour", "bitte", "danke", "Grüße", "por favor", "gracias", "hola", "déjà",
          "aujourd'hui", "heute", "mañana", "problème", "Frage"]


def frame(rows_per_class: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    records = []
    for label, words in WORDS.items():
        for _ in range(rows_per_class):
            parts = rng.sample(words, 2) + rng.sample(FILLER, 3)
            rng.shuffle(parts)
            records.append({"subject": " ".join(parts[:2]), "body": " ".join(parts[2:]), "queue": label})
    rng.shuffle(records)
    return pd.DataFrame(records)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def zero_width_laced(text: str) -> str:
    lace = "\u200b\u00ad\u2060\u200d\u200c\ufeff"
    return "".join(c + (lace[i % len(lace)] if i % 3 == 2 else "") for i, c in enumerate(text))


def bidi_laced(text: str) -> str:
    return "\u202e" + " ".join(f"\u2067{word}\u2069\u200f" for word in text.split(" ")) + "\u202c"


VARIANTS = {
    "NFC": lambda t: unicodedata.normalize("NFC", t),
    "NFD": lambda t: unicodedata.normalize("NFD", t),
    "NFKC": lambda t: unicodedata.normalize("NFKC", t),
    "full-width": lambda t: full_width(unicodedata.normalize("NFC", t)),
    "zero-width": lambda t: zero_width_laced(unicodedata.normalize("NFD", t)),
    "bidi": lambda t: bidi_laced(unicodedata.normalize("NFC", t)),
}


def variants(ticket: Ticket) -> dict[str, Ticket]:
    return {name: Ticket(subject=form(ticket.subject), body=form(ticket.body)) for name, form in VARIANTS.items()}


def answer(prediction) -> tuple:
    return (prediction.category, prediction.confidence, prediction.probabilities,
            prediction.derived["vocabulary_coverage"], prediction.explanation)


@pytest.fixture(scope="module")
def accented():
    """A small model on 240 accented tickets (two linear members: seconds), and 24 unseen tickets."""
    data = load_labeled(frame(80, seed=3), ["subject", "body"], ["queue"])
    model, _ = fit_classifier(data.tickets, data.labels, TrainOptions(seed=3, members=("linear_svm", "logreg"),
                                                                      embeddings="off", n_folds=3))
    unseen = load_labeled(frame(8, seed=11), ["subject", "body"], ["queue"]).tickets
    return model, unseen


def test_every_unicode_form_of_a_ticket_gets_the_same_answer(accented):
    model, unseen = accented
    assert model.text_normalisation == VERSION
    for ticket in unseen:
        forms = variants(ticket)
        texts = {name: prepare([form], "UTC", model.text_normalisation).texts[0] for name, form in forms.items()}
        assert len(set(texts.values())) == 1, texts
        answers = {name: answer(prediction) for name, prediction in
                   zip(forms, model.predict_batch(list(forms.values())))}
        assert all(found == answers["NFC"] for found in answers.values()), answers
        assert answers["NFC"][3] > 0.5  # the words are known to the model in every form


def test_without_normalisation_the_forms_would_disagree(accented):
    """What the test above guards against: the same model reading raw forms (version 0) answers differently."""
    model, unseen = accented
    raw = copy.copy(model)
    raw.text_normalisation = 0
    differing = 0
    for ticket in unseen:
        forms = variants(ticket)
        answers = [answer(prediction) for prediction in raw.predict_batch(list(forms.values()))]
        differing += any(found != answers[0] for found in answers)
        assert raw.predict(forms["full-width"]).derived["vocabulary_coverage"] == 0.0
    assert differing == len(unseen)


def test_a_saved_model_records_its_normalisation_and_answers_alike_after_loading(accented, tmp_path):
    model, unseen = accented
    manifest = save_model(model, tmp_path / "m")
    assert manifest["text_normalisation"] == VERSION
    loaded = load_model(tmp_path / "m")
    assert loaded.text_normalisation == VERSION
    forms = list(variants(unseen[0]).values())
    assert [answer(p) for p in loaded.predict_batch(forms)] == [answer(p) for p in model.predict_batch(forms)]


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(text_normalisation=VERSION + 1), "upgrade triage or retrain"),
    (lambda m: m.update(text_normalisation="nfkc"), "upgrade triage or retrain"),
    (lambda m: m.pop("text_normalisation"), "the manifest was edited"),
    (lambda m: m.update(text_normalisation=0), "the manifest was edited"),
])
def test_a_model_is_refused_when_its_manifest_names_another_normalisation(accented, tmp_path, edit, message):
    model, _ = accented
    save_model(model, tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / MANIFEST_FILE).read_text())
    edit(manifest)
    (tmp_path / "m" / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=message):
        load_model(tmp_path / "m")


# The bundled starter model's answers, recorded before text normalisation existed (same code, same machine).
STARTER_ANSWERS = [
    (Ticket(subject="I want a refund for my order",
            body="The package arrived broken, please give me my money back."), "REFUNDS", 0.9999838105094498, 0.7143),
    (Ticket(subject="\uff32\uff45\uff46\uff55\uff4e\uff44",
            body="\uff29 \uff57\uff41\uff4e\uff54 \uff41 \uff52\uff45\uff46\uff55\uff4e\uff44 \uff46\uff4f\uff52 "
                 "\uff4d\uff59 \uff4f\uff52\uff44\uff45\uff52"), "CANCELLATION_FEE", 0.18201001141177478, 0.0),
    (Ticket(subject="Livraison", body=unicodedata.normalize(
        "NFD", "Je n'ai pas reçu ma commande, où est le colis ? Merci de vérifier l'adresse.")),
     "FEEDBACK", 0.6625608001568589, 0.0667),
    (Ticket(subject="Livraison", body=unicodedata.normalize(
        "NFC", "Je n'ai pas reçu ma commande, où est le colis ? Merci de vérifier l'adresse.")),
     "FEEDBACK", 0.6447116269612412, 0.0),
    (Ticket(subject="can\u200bcel my sub\u00adscription",
            body="\u202eplease\u202c cancel\ufeff my newsletter subscription\u2060 now"),
     "NEWSLETTER", 0.9993483955699649, 0.5),
    (Ticket(subject="Passwort vergessen", body="Ich kann mich nicht in mein Konto einloggen. STRASSE Straße"),
     "ACCOUNT", 0.8149748366911218, 0.0),
]


def test_the_starter_model_trained_before_normalisation_answers_as_before(starter_model_path):
    manifest = json.loads((starter_model_path / MANIFEST_FILE).read_text())
    starter = load_model(starter_model_path)
    assert "text_normalisation" not in manifest, \
        "the bundled starter was retrained: these answers belong to the old one (keep a copy of it to test against)"
    assert starter.text_normalisation == 0
    predictions = starter.predict_batch([ticket for ticket, *_ in STARTER_ANSWERS])
    for prediction, (_, category, confidence, coverage) in zip(predictions, STARTER_ANSWERS):
        assert prediction.category == category
        assert prediction.confidence == pytest.approx(confidence, abs=1e-9)
        assert prediction.derived["vocabulary_coverage"] == coverage
