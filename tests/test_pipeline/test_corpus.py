"""Labeled evaluation corpus for ``regwatch inspect`` extraction (tests/fixtures/corpus).

Every directory under ``tests/fixtures/corpus`` is one case: an input (a detail page replica
``input.html`` or a text ``input.txt``), ``meta.json`` (how to call the extractor) and
``expected.json`` (a subset of the ``DocumentRecord.to_json()`` fields; see the corpus
README for the comparison rules). The expected values were written by reading the texts,
not by running the extractor.

``test_corpus_format`` validates the corpus itself and always runs. The per-case tests and
the precision/recall summary skip only while ``pipeline.extract`` does not exist yet.
Run ``pytest -s tests/test_pipeline/test_corpus.py`` to see the summary table.
"""

from __future__ import annotations

import importlib
import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
CASE_IDS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))

SOURCES = {"mofcom", "miit", "govcn", "meti"}
LANGUAGES = {"zh", "ja", "en"}
DATE_TYPES = {"published", "signed", "effective", "suspended_from", "suspended_until", "expires", "repealed",
              "transition_until"}
RELATION_TYPES = {"suspends", "amends", "repeals", "supersedes", "implements", "extends", "resumes"}
SCHEMES = {"cn-dual-use", "us-eccn"}
SCALAR_FIELDS = ("doc_key", "doc_number", "title", "published", "signed", "effective")
SORTED_LIST_FIELDS = ("eccns", "elements", "hs_codes")
EXPECTED_FIELDS = set(SCALAR_FIELDS) | set(SORTED_LIST_FIELDS) | {
    "issuers", "dates", "codes", "relations", "attachments_count"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CODE_RE = re.compile(r"^(?:[0-9][A-E][0-9]{3}(?:\.[a-z](?:\.[0-9]+)*)*|EAR99)$")
HS_RE = re.compile(r"^\d{4}(?:\.\d{2}){1,3}$")
KEY_RE = re.compile(r"^[a-z-]+(?:\+[a-z-]+)*:(?:(?:[\u4e00-\u9fff]+:)?\d{4}|order|press):[0-9]+(?:-[0-9]+)?$")
MIN_CASES = 65
# Thresholds of the whole-corpus summary (see test_corpus_precision_recall).
THRESHOLDS = {"codes": 0.98, "dates": 0.95, "relations": 1.0}


def _load(case_id: str) -> tuple[dict[str, Any], dict[str, Any], Path]:
    folder = CORPUS / case_id
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return meta, expected, folder


def _extract_module():
    """The extractor module, or a skip while it has not been written yet (any other import error fails)."""
    try:
        return importlib.import_module("pipeline.extract")
    except ModuleNotFoundError as exc:
        if exc.name == "pipeline.extract":
            pytest.skip("pipeline/extract.py does not exist yet: the corpus cannot be evaluated")
        raise


@cache
def _actual(case_id: str) -> dict[str, Any]:
    """Run the extractor on one case and return ``record.to_json()``."""
    mod = _extract_module()
    meta, _, folder = _load(case_id)
    if meta["kind"] == "page":
        record = mod.extract_page((folder / "input.html").read_bytes(), source=meta["source"], url=meta["url"],
                                  headers=meta.get("headers"))
    else:
        published = date.fromisoformat(meta["published"]) if meta.get("published") else None
        record = mod.extract_text((folder / "input.txt").read_text(encoding="utf-8"), source=meta["source"],
                                  url=meta["url"], published=published, language=meta["language"],
                                  title=meta.get("title"))
    return record.to_json()


# ---------------------------------------------------------------------------- comparison rules


def _date_matches(exp: dict[str, Any], act: dict[str, Any]) -> bool:
    if exp["type"] != act.get("type") or exp["date"] != act.get("date"):
        return False
    return "clause" not in exp or exp["clause"] == act.get("clause")


def _relation_matches(exp: dict[str, Any], act: dict[str, Any]) -> bool:
    if exp["type"] != act.get("type") or exp["target_key"] != act.get("target_key"):
        return False
    return all(k not in exp or exp[k] == act.get(k) for k in ("until", "clause", "since"))


def _set_diff(expected: list[dict], actual: list[dict], matches) -> tuple[list, list]:
    """(missing, extra): expected items no actual item matches, actual items no expected item matches."""
    missing = [e for e in expected if not any(matches(e, a) for a in actual)]
    extra = [a for a in actual if not any(matches(e, a) for e in expected)]
    return missing, extra


def _strip(items: list[dict], keys: tuple[str, ...]) -> list[dict]:
    return [{k: it.get(k) for k in keys} for it in items]


def compare_field(field: str, expected: Any, actual_json: dict[str, Any]) -> str | None:
    """None when the field matches, else a human-readable explanation."""
    if field == "attachments_count":
        got = len(actual_json.get("attachments") or [])
        return None if got == expected else f"expected {expected} attachments, got {got}: {actual_json.get('attachments')}"
    got = actual_json.get(field)
    if field in SCALAR_FIELDS:
        return None if got == expected else f"expected {expected!r}, got {got!r}"
    if field == "issuers":
        return None if list(got or []) == expected else f"expected {expected!r}, got {got!r}"
    if field in SORTED_LIST_FIELDS:
        got_sorted = sorted(set(got or []))
        if got_sorted == expected:
            return None
        return (f"missing {sorted(set(expected) - set(got_sorted))}, extra {sorted(set(got_sorted) - set(expected))}"
                f" (expected {expected}, got {got_sorted})")
    if field == "codes":
        exp_set = {(c["scheme"], c["code"]) for c in expected}
        got_set = {(c.get("scheme"), c.get("code")) for c in (got or [])}
        if exp_set == got_set:
            return None
        return f"missing {sorted(exp_set - got_set)}, extra {sorted(got_set - exp_set)}"
    if field == "dates":
        missing, extra = _set_diff(expected, got or [], _date_matches)
        if not missing and not extra:
            return None
        return f"missing {missing}, extra {_strip(extra, ('type', 'date', 'clause'))}"
    if field == "relations":
        missing, extra = _set_diff(expected, got or [], _relation_matches)
        if not missing and not extra:
            return None
        return f"missing {missing}, extra {_strip(extra, ('type', 'target_key', 'until', 'clause', 'target_text'))}"
    raise AssertionError(f"unknown expected field {field!r}")


# ---------------------------------------------------------------------------- corpus format


def _validate_case(case_id: str) -> list[str]:
    problems: list[str] = []
    meta, expected, folder = _load(case_id)
    for key in ("source", "url", "kind", "language", "description"):
        if key not in meta:
            problems.append(f"meta.json lacks {key!r}")
    if meta.get("source") not in SOURCES:
        problems.append(f"meta.source {meta.get('source')!r} not in {sorted(SOURCES)}")
    if meta.get("language") not in LANGUAGES:
        problems.append(f"meta.language {meta.get('language')!r} not in {sorted(LANGUAGES)}")
    if not str(meta.get("url", "")).startswith(("https://", "http://")):
        problems.append("meta.url must be an absolute http(s) URL")
    kind = meta.get("kind")
    if kind == "page":
        body = (folder / "input.html").read_bytes() if (folder / "input.html").exists() else None
        if body is None:
            problems.append("kind 'page' needs input.html")
        else:
            try:
                body.decode(meta.get("encoding", "utf-8"))
            except UnicodeDecodeError as exc:
                problems.append(f"input.html is not valid {meta.get('encoding', 'utf-8')}: {exc}")
    elif kind == "snippet":
        if not (folder / "input.txt").exists():
            problems.append("kind 'snippet' needs input.txt (UTF-8)")
        if "published" not in meta:
            problems.append("snippet meta needs 'published' (YYYY-MM-DD or null)")
        elif meta["published"] is not None and not ISO_DATE.match(meta["published"]):
            problems.append("meta.published must be YYYY-MM-DD or null")
    else:
        problems.append(f"meta.kind {kind!r} must be 'page' or 'snippet'")
    unknown = set(expected) - EXPECTED_FIELDS
    if unknown:
        problems.append(f"expected.json has unknown fields {sorted(unknown)}")
    if not expected:
        problems.append("expected.json is empty")
    for f in ("published", "signed", "effective"):
        v = expected.get(f)
        if v is not None and not ISO_DATE.match(v):
            problems.append(f"expected.{f} {v!r} is not YYYY-MM-DD")
    key = expected.get("doc_key")
    if key is not None and not KEY_RE.match(key):
        problems.append(f"expected.doc_key {key!r} is not a canonical key")
    for f in SORTED_LIST_FIELDS:
        if f in expected and expected[f] != sorted(set(expected[f])):
            problems.append(f"expected.{f} must be sorted and unique")
    for code in expected.get("eccns", []):
        if not CODE_RE.match(code):
            problems.append(f"eccn {code!r} is not canonical")
    for c in expected.get("codes", []):
        if c.get("scheme") not in SCHEMES or not CODE_RE.match(c.get("code", "")):
            problems.append(f"bad code entry {c!r}")
    if "codes" in expected and "eccns" in expected:
        if sorted({c["code"] for c in expected["codes"]}) != expected["eccns"]:
            problems.append("codes and eccns disagree")
    for hs in expected.get("hs_codes", []):
        if not HS_RE.match(hs):
            problems.append(f"hs code {hs!r} is not dotted")
    for d in expected.get("dates", []):
        if d.get("type") not in DATE_TYPES or not ISO_DATE.match(str(d.get("date"))):
            problems.append(f"bad date entry {d!r}")
    for f in ("published", "signed"):
        if f in expected and "dates" in expected:
            listed = [d["date"] for d in expected["dates"] if d["type"] == f]
            want = [expected[f]] if expected[f] else []
            if listed != want:
                problems.append(f"expected.{f} and the {f!r} entries of expected.dates disagree")
    for r in expected.get("relations", []):
        if r.get("type") not in RELATION_TYPES or not (r.get("target_key") is None or KEY_RE.match(r["target_key"])):
            problems.append(f"bad relation entry {r!r}")
        for k in ("until", "since"):
            if r.get(k) is not None and not ISO_DATE.match(r[k]):
                problems.append(f"bad relation {k} {r!r}")
    return problems


def test_corpus_format():
    """The corpus is well-formed, large enough and covers every source and input kind."""
    assert len(CASE_IDS) >= MIN_CASES, f"corpus has {len(CASE_IDS)} cases, want at least {MIN_CASES}"
    problems = {cid: p for cid in CASE_IDS if (p := _validate_case(cid))}
    assert not problems, "malformed corpus cases (fix the files under tests/fixtures/corpus):\n" + "\n".join(
        f"  {cid}: {'; '.join(p)}" for cid, p in problems.items())
    metas = [_load(cid)[0] for cid in CASE_IDS]
    assert {m["source"] for m in metas if m["kind"] == "page"} == SOURCES
    assert {m.get("encoding", "utf-8") for m in metas} >= {"utf-8", "gbk", "cp932"}


# ---------------------------------------------------------------------------- per-case evaluation


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_corpus_case(case_id: str):
    """Every expected field of one case; the failure message lists each mismatching field."""
    meta, expected, _ = _load(case_id)
    actual = _actual(case_id)
    failures = {}
    for field in sorted(expected):
        problem = compare_field(field, expected[field], actual)
        if problem is not None:
            failures[field] = problem
    assert not failures, f"{case_id} ({meta['description']})\n" + "\n".join(
        f"  {field}: {problem}" for field, problem in failures.items())


# ---------------------------------------------------------------------------- whole-corpus summary


def _prf(tp: int, n_expected: int, n_actual: int) -> tuple[float, float]:
    precision = tp / n_actual if n_actual else 1.0
    recall = tp / n_expected if n_expected else 1.0
    return precision, recall


def corpus_scores(actuals: dict[str, dict[str, Any]]) -> dict[str, tuple[float, float, int, int, int]]:
    """Micro-averaged (precision, recall, tp, expected, actual) for codes, typed dates and relations.

    Only cases whose expected.json lists the field take part (a field not listed is "don't care").
    """
    counts = {"codes": [0, 0, 0], "dates": [0, 0, 0], "relations": [0, 0, 0]}
    for cid, actual in actuals.items():
        _, expected, _ = _load(cid)
        if "eccns" in expected:
            exp, got = set(expected["eccns"]), set(actual.get("eccns") or [])
            counts["codes"][0] += len(exp & got)
            counts["codes"][1] += len(exp)
            counts["codes"][2] += len(got)
        for field, matches in (("dates", _date_matches), ("relations", _relation_matches)):
            if field not in expected:
                continue
            exp_items, got_items = expected[field], actual.get(field) or []
            # de-duplicate actual items that the same expected item explains
            got_unique = [g for i, g in enumerate(got_items) if g not in got_items[:i]]
            tp = sum(1 for e in exp_items if any(matches(e, g) for g in got_unique))
            counts[field][0] += tp
            counts[field][1] += len(exp_items)
            counts[field][2] += tp + sum(1 for g in got_unique if not any(matches(e, g) for e in exp_items))
    out = {}
    for name, (tp, n_exp, n_act) in counts.items():
        p, r = _prf(tp, n_exp, n_act)
        out[name] = (p, r, tp, n_exp, n_act)
    return out


def test_corpus_precision_recall():
    """Whole-corpus precision/recall; thresholds: codes >= 0.98, typed dates >= 0.95, relations = 1.0."""
    _extract_module()
    scores = corpus_scores({cid: _actual(cid) for cid in CASE_IDS})
    print("\ncorpus scores over", len(CASE_IDS), "cases")
    print(f"  {'field':<10} {'precision':>9} {'recall':>7} {'tp':>5} {'expected':>8} {'actual':>7}")
    for name, (p, r, tp, n_exp, n_act) in scores.items():
        print(f"  {name:<10} {p:>9.3f} {r:>7.3f} {tp:>5} {n_exp:>8} {n_act:>7}")
    low = {name: (round(s[0], 3), round(s[1], 3)) for name, s in scores.items()
           if s[0] < THRESHOLDS[name] or s[1] < THRESHOLDS[name]}
    assert not low, f"below threshold {THRESHOLDS}: {low} (see test_corpus_case failures for details)"
