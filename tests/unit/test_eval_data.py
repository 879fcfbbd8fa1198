"""The search evaluation's data (eval/data) is valid: a catalog the real ingest accepts, queries that name
products that exist, every kind and split represented, hidden-text traps in place. The blind split
(queries_blind.json, hand-written apart from the rest) gets the same checks on its questions.

These check the data, not the search: `make eval` measures the search on it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mostrador.catalog.ingest import parse_push, validate_items
from mostrador.catalog.search import SearchFilters
from mostrador.config import Settings

EVAL = Path(__file__).resolve().parents[2] / "eval"
KINDS = {"semantic", "brand", "code", "accentless", "typo", "attribute", "english", "filter", "colloquial", "negative"}
HIDING = {
    "display:none": re.compile(r"style\s*=\s*[\"'][^\"']*display\s*:\s*none", re.I),
    "visibility:hidden": re.compile(r"style\s*=\s*[\"'][^\"']*visibility\s*:\s*hidden", re.I),
    "font-size:0": re.compile(r"style\s*=\s*[\"'][^\"']*font-size\s*:\s*0(?![.\d]*[1-9])", re.I),
    "hidden attribute": re.compile(r"<[a-z]+\b[^>]*\shidden(\s*=\s*[\"']?hidden[\"']?)?[\s>]", re.I),
    "aria-hidden": re.compile(r"aria-hidden\s*=\s*[\"']true[\"']", re.I),
}


@cache
def catalog() -> list[dict[str, Any]]:
    return json.loads((EVAL / "data" / "catalog.json").read_text(encoding="utf-8"))


@cache
def queries() -> list[dict[str, Any]]:
    return json.loads((EVAL / "data" / "queries.json").read_text(encoding="utf-8"))


@cache
def blind_queries() -> list[dict[str, Any]]:
    return json.loads((EVAL / "data" / "queries_blind.json").read_text(encoding="utf-8"))


@cache
def blind2_queries() -> list[dict[str, Any]]:
    return json.loads((EVAL / "data" / "queries_blind2.json").read_text(encoding="utf-8"))


# Each question set, for the checks that hold for every question wherever it is written.
QUESTION_SETS = pytest.mark.parametrize(
    "question_set", [queries, blind_queries, blind2_queries], ids=["queries", "blind", "blind2"]
)


@cache
def products() -> dict[str, list[dict[str, Any]]]:
    """item code -> its rows, one per warehouse."""
    by_code: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in catalog():
        by_code[item["itemCode"]].append(item)
    return dict(by_code)


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# --- the catalog ---------------------------------------------------------------------------------------


def test_every_catalog_item_passes_the_real_ingest_validation():
    body = json.dumps({"products": catalog(), "syncId": "eval-catalog", "fullSync": True}).encode()
    push = parse_push(body, max_bytes=Settings().ingest_max_body_bytes)
    valid, rejected = validate_items(push.items)
    assert rejected == []
    assert len(valid) == len(catalog())


def test_catalog_is_a_store_with_many_products_in_several_branches():
    assert len(products()) >= 150
    branches = {item["branchName"] for item in catalog()}
    assert len(branches) >= 3
    stock_by_code = {code: [row["stock"] for row in rows] for code, rows in products().items()}
    assert any(all(s <= 0 for s in stocks) for stocks in stock_by_code.values()), "no product is out of stock"
    in_one_branch = [
        code for code, rows in products().items() if len({row["branchName"] for row in rows if row["stock"] > 0}) == 1
    ]
    assert in_one_branch, "no product is stocked in only one branch"


def test_warehouse_rows_of_one_product_agree_on_the_product():
    for code, rows in products().items():
        facts = {(r["itemName"], r["description"], r["brand"], r["category"], r["price"]) for r in rows}
        assert len(facts) == 1, code
        assert len({r["whsName"] for r in rows}) == len(rows), code


def test_item_codes_come_in_every_shape_and_never_collide_once_separators_are_dropped():
    codes = list(products())
    assert len({squash(c) for c in codes}) == len(codes)
    shapes = {
        "letters-dash-digits": r"[A-Z]+-\d+",
        "letters and digits without separator": r"(?=.*[A-Z])(?=.*\d)[A-Z0-9]+",
        "digits only": r"\d+",
        "several dashes": r"[A-Z0-9]+(-[A-Z0-9]+){2,}",
        "digit part with a leading zero": r"[A-Z]+-0\d+",
    }
    for shape, pattern in shapes.items():
        assert any(re.fullmatch(pattern, c) for c in codes), shape


def test_descriptions_hide_text_in_every_technique_and_the_hidden_text_carries_an_injection():
    descriptions = {rows[0]["description"] or "" for rows in products().values()}
    for technique, pattern in HIDING.items():
        hiding = [d for d in descriptions if pattern.search(d)]
        assert hiding, f"no description hides text with {technique}"
    hidden = [d for d in descriptions if any(p.search(d) for p in HIDING.values())]
    assert len(hidden) >= 10
    assert all(re.search(r"ignor", d, re.I) for d in hidden)


def test_some_descriptions_are_messy_html():
    descriptions = [rows[0]["description"] or "" for rows in products().values()]
    assert any("<script" in d for d in descriptions)
    assert any("<style" in d for d in descriptions)
    assert any(re.search(r"&[a-z]+;", d) for d in descriptions)
    assert any("<!--" in d for d in descriptions)
    assert any(d.count("<li>") > d.count("</li>") for d in descriptions), "no unclosed tags"
    assert any(d and "<" not in d for d in descriptions), "no plain-text description"


# --- the queries ---------------------------------------------------------------------------------------


def test_query_ids_are_unique_and_rows_well_formed():
    ids = [q["id"] for q in queries()]
    assert len(ids) == len(set(ids))
    for q in queries():
        assert q["kind"] in KINDS, q["id"]
        assert q["query"].strip(), q["id"]
        assert q["split"] in {"tune", "holdout"}, q["id"]
        assert isinstance(q["relevant"], list) and isinstance(q.get("filters", {}), dict), q["id"]
    assert len(queries()) >= 150


def test_every_kind_has_fifteen_queries_in_both_splits():
    by_kind = Counter(q["kind"] for q in queries())
    assert set(by_kind) == KINDS
    for query_kind, count in by_kind.items():
        assert count >= 15, query_kind
        splits = Counter(q["split"] for q in queries() if q["kind"] == query_kind)
        assert splits["tune"] and splits["holdout"], query_kind
        assert 0.2 <= splits["holdout"] / count <= 0.4, query_kind


@QUESTION_SETS
def test_relevant_codes_exist_and_only_negatives_are_empty(question_set):
    for q in question_set():
        for code in q["relevant"]:
            assert code in products(), f"{q['id']}: {code} is not in the catalog"
        assert len(set(q["relevant"])) == len(q["relevant"]), q["id"]
        if q["kind"] == "negative":
            assert q["relevant"] == [], q["id"]
        else:
            assert q["relevant"], q["id"]


@QUESTION_SETS
def test_code_queries_contain_their_codes_in_some_spelling(question_set):
    for q in (q for q in question_set() if q["kind"] == "code"):
        for code in q["relevant"]:
            assert squash(code) in squash(q["query"]), q["id"]


@QUESTION_SETS
def test_filters_are_search_filters_and_relevant_products_satisfy_them(question_set):
    known = {f.name for f in dataclasses.fields(SearchFilters)}
    filtered = [q for q in question_set() if q.get("filters")]
    assert {q["kind"] for q in filtered} == {"filter"}
    assert len(filtered) == sum(q["kind"] == "filter" for q in question_set())
    for q in filtered:
        assert set(q["filters"]) <= known, q["id"]
        SearchFilters(**q["filters"])
        for code in q["relevant"]:
            assert _satisfies(products()[code], q["filters"]), f"{q['id']}: {code} fails {q['filters']}"


def _satisfies(rows: list[dict[str, Any]], filters: dict[str, Any]) -> bool:
    """The filters as docs and the search define them: brand equal, category a part of category/sub/group,
    price bounds on the USD price, in stock somewhere, branch = stock > 0 there (accents and case folded)."""
    first = rows[0]
    if "brand" in filters and fold(first["brand"]) != fold(filters["brand"]):
        return False
    where = fold(" / ".join(str(first[k] or "") for k in ("category", "subCategory", "itemGroupName")))
    if "category" in filters and fold(filters["category"]) not in where:
        return False
    if "min_price" in filters and first["price"] < filters["min_price"]:
        return False
    if "max_price" in filters and first["price"] > filters["max_price"]:
        return False
    stocked = [r for r in rows if r["stock"] > 0]
    if filters.get("in_stock") and not stocked:
        return False
    if "branch" in filters:
        return any(fold(filters["branch"]) in fold(f"{r['branchName']} {r['whsName']}") for r in stocked)
    return True


@QUESTION_SETS
def test_hidden_text_negatives_point_at_a_description_that_hides_text(question_set):
    for q in (q for q in question_set() if q["kind"] == "negative" and q.get("note", "").startswith("hidden text of")):
        code = q["note"].removeprefix("hidden text of ").split()[0]
        description = products()[code][0]["description"]
        assert any(p.search(description) for p in HIDING.values()), q["id"]


def test_blind_split_has_ten_questions_of_every_kind_in_its_own_file():
    ids = [q["id"] for q in blind_queries()]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {q["id"] for q in queries()}, "blind ids collide with queries.json"
    for q in blind_queries():
        assert q["kind"] in KINDS, q["id"]
        assert q["query"].strip(), q["id"]
        assert q["split"] == "blind", q["id"]
        assert isinstance(q["relevant"], list) and isinstance(q.get("filters", {}), dict), q["id"]
    by_kind = Counter(q["kind"] for q in blind_queries())
    assert set(by_kind) == KINDS
    assert all(count >= 10 for count in by_kind.values()), by_kind
    # Only the blind side is named on failure: whoever fixes this must not read the tuned questions.
    team = {squash(fold(q["query"])) for q in queries()}
    repeated = [q["id"] for q in blind_queries() if squash(fold(q["query"])) in team]
    assert not repeated, f"these blind questions also appear in queries.json: {repeated}"


def test_blind2_split_has_every_kind_in_its_own_file_apart_from_the_other_sets():
    ids = [q["id"] for q in blind2_queries()]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {q["id"] for q in [*queries(), *blind_queries()]}, "blind2 ids collide"
    for q in blind2_queries():
        assert q["kind"] in KINDS, q["id"]
        assert q["query"].strip(), q["id"]
        assert q["split"] == "blind2", q["id"]
    by_kind = Counter(q["kind"] for q in blind2_queries())
    assert set(by_kind) == KINDS
    assert len(ids) >= 100 and all(count >= 9 for count in by_kind.values()), by_kind
    # Only blind2 ids are named on failure: whoever fixes this must not read the other sets' questions.
    others = {squash(fold(q["query"])) for q in [*queries(), *blind_queries()]}
    repeated = [q["id"] for q in blind2_queries() if squash(fold(q["query"])) in others]
    assert not repeated, f"these blind2 questions also appear in another question set: {repeated}"


# --- the generators ------------------------------------------------------------------------------------


@pytest.fixture
def generators(monkeypatch):
    monkeypatch.syspath_prepend(str(EVAL))
    loaded = {}
    for name in ("make_catalog", "make_queries"):
        spec = importlib.util.spec_from_file_location(name, EVAL / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        loaded[name] = module
    return loaded


def test_committed_json_is_what_the_generators_produce(generators):
    assert generators["make_catalog"].build_items() == catalog()
    assert generators["make_queries"].build() == queries()
