"""admin.paging's reading of the query string: bounded numbers, cleaned search text, and links that keep the
other tables' state but nothing else."""
from __future__ import annotations

import pytest

from admin.paging import AGE_FILTER, MAX_CARRIED, MAX_SIZE, SEARCH_CHARS, BadQuery, Filter, read_page

FILTERS = [Filter("helpdesk", "helpdesk", (("zendesk", "Zendesk"),)), Filter("category", "category"), AGE_FILTER]


def test_values_are_read_and_links_carry_them():
    q = read_page({"reviews.page": "3", "reviews.size": "50", "reviews.q": " refund  me ",
                   "reviews.helpdesk": "zendesk", "reviews.age": "1d", "failed.page": "2", "routed": "7"},
                  "reviews", FILTERS)
    assert (q.page, q.size, q.search, dict(q.filters)) == (3, 50, "refund me", {"helpdesk": "zendesk", "age": "1d"})
    assert q.query(page=4) == ("?failed.page=2&reviews.q=refund+me&reviews.helpdesk=zendesk&reviews.age=1d"
                               "&reviews.size=50&reviews.page=4")
    assert q.query(reset=True) == "?failed.page=2&reviews.size=50"  # "clear": the filters go, the size stays
    assert q.hidden() == [("failed.page", "2"), ("reviews.size", "50")]  # "routed" (a notice) is not carried


@pytest.mark.parametrize("args, expected", [
    ({"t.page": "-1"}, (1, 25)), ({"t.page": "0"}, (1, 25)), ({"t.page": "1" * 5000}, (1_000_000, 25)),
    ({"t.page": "2.5"}, (1, 25)), ({"t.size": "100000"}, (1, MAX_SIZE)), ({"t.size": "0x10"}, (1, 25)),
    ({"t.page": "٣"}, (1, 25)),  # an Arabic-Indic 3: digits to Python's int(), not to us
])
def test_numbers_a_browser_could_not_mean_fall_back(args, expected):
    q = read_page(args, "t")
    assert (q.page, q.size) == expected


@pytest.mark.parametrize("args", [{"t.page": "-1"}, {"t.page": "1" * 5000}, {"t.size": "101"}, {"t.helpdesk": "x"},
                                  {"t.age": "forever"}, {"t.category": "a;b"}, {"t.q": "x" * (SEARCH_CHARS + 1)}])
def test_a_bearer_client_is_told_which_value_names_nothing(args):
    with pytest.raises(BadQuery) as caught:
        read_page(args, "t", FILTERS, strict=True)
    assert caught.value.detail.startswith(next(iter(args))) and len(caught.value.detail) < 200


def test_search_text_loses_control_characters_and_is_cut():
    assert read_page({"t.q": "a\x00b\r\nc\x7f"}, "t").search == "a b c"
    assert len(read_page({"t.q": "y" * 10_000}, "t").search) == SEARCH_CHARS


def test_only_other_tables_values_are_carried_and_only_so_many():
    args = {f"x{i}.page": str(i) for i in range(MAX_CARRIED + 20)} | {"evil": "1", "a.b.c": "1", "t.page": "2",
                                                                      "y.q": "bad\x00value"}
    q = read_page(args, "t")
    assert len(q.carried) == MAX_CARRIED and all(name.startswith("x") for name, _ in q.carried)
    assert dict(read_page({"y.q": "bad\x00value", "evil": "1"}, "t").carried) == {"y.q": "bad value"}
