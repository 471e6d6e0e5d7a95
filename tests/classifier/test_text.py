from classifier.text import MAX_CHARS, normalise


def test_html_quotes_and_signature_are_removed():
    raw = ("<div>My <b>printer</b>&nbsp;is jammed.</div><br>It shows error 42.<br>"
           "Best regards,<br>Ann Smith<br>Head of Things<br>"
           "On Mon, 3 Feb 2025 at 10:00, Support wrote:<br>&gt; old text about invoices")
    text = normalise(raw)
    assert text.startswith("my printer is jammed.")  # case folded (classifier.normalisation)
    assert "error 42" in text
    assert "invoices" not in text and "ann smith" not in text and "<" not in text
    assert normalise(raw, None, 0).startswith("My printer is jammed.")  # models from before: case kept


def test_quoted_lines_and_whitespace_fold():
    text = normalise("laptop   broken\n\n\n> earlier message\n> more\nthanks for looking at it today and tomorrow")
    assert "earlier" not in text
    assert "laptop broken" in text


def test_long_and_odd_inputs():
    assert len(normalise("x" * 5_000_000)) == MAX_CHARS
    assert normalise(None) == "" and normalise(float("nan")) == "" and normalise(42) == "42"
