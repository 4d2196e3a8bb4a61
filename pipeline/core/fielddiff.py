"""Field-level changes between two versions of a document, and a one-line summary for alerts.

``field_changes`` compares the extracted facts of two ``DocumentRecord`` versions: title,
document key, the three headline dates, typed dates by (type, clause), control codes by
(scheme, code), elements, HS codes, relations by (type, target, clause) and attachments by URL.
Evidence sentences are ignored: re-wording the sentence a fact came from is not a change.

``FieldChange.field`` values: ``title``, ``doc_number``, ``published``, ``signed``, ``effective``,
``dates.<type>`` (e.g. ``dates.suspended_until``), ``code``, ``element``, ``hs_code``,
``relation``, ``attachment``. Order is deterministic: fields in that order, then by key,
then changed/removed/added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from datetime import date

from pipeline.core.records import DocumentRecord, FieldChange, Relation, TextDiff

ARROW = "→"
MINUS = "−"  # U+2212, for "+120/−35 chars"
_HEADLINE_DATES = (("published", "published date"), ("signed", "signed date"), ("effective", "effective date"))
_KIND_ORDER = {"changed": 0, "removed": 1, "added": 2}  # in the change list: a swap reads "X removed, Y added"
_SUMMARY_KIND_ORDER = {"changed": 0, "added": 1, "removed": 2}
_FIELD_ORDER = ("title", "doc_number", "published", "signed", "effective", "dates", "code", "element", "hs_code")
_FIELD_ORDER += ("relation", "attachment")
_LABELS = {"title": "title", "doc_number": "doc number", **dict(_HEADLINE_DATES)}
_NOUNS = {
    "code": ("code", "codes"),
    "element": ("element", "elements"),
    "hs_code": ("HS code", "HS codes"),
    "relation": ("relation", "relations"),
    "attachment": ("attachment", "attachments"),
}


def field_changes(old: DocumentRecord | None, new: DocumentRecord) -> list[FieldChange]:
    """List what changed in the extracted fields from ``old`` to ``new`` (``old=None``: nothing).

    Example:
        >>> from datetime import date
        >>> from pipeline.core.records import CodeTag
        >>> a = DocumentRecord("mofcom", "u", "T", "zh", "", "", "h", effective=date(2025, 11, 8),
        ...                    codes=(CodeTag("cn-dual-use", "1C914"),))
        >>> b = DocumentRecord("mofcom", "u", "T", "zh", "", "", "h", effective=date(2025, 12, 1))
        >>> [c.summary for c in field_changes(a, b)]
        ['effective date 2025-11-08 → 2025-12-01', 'code 1C914 removed']
    """
    if old is None:
        return []
    changes: list[FieldChange] = []
    changes += _scalar("title", "title", old.title, new.title)
    changes += _scalar("doc_number", "doc number", old.doc_key, new.doc_key)
    headline: list[FieldChange] = []
    for name, label in _HEADLINE_DATES:
        headline += _scalar(name, label, _iso(getattr(old, name)), _iso(getattr(new, name)))
    changes += headline
    changes += _typed_dates(old, new, headline)
    changes += _codes(old, new)
    changes += _set_field("element", "element", old.elements, new.elements)
    changes += _set_field("hs_code", "HS code", old.hs_codes, new.hs_codes)
    changes += _relations(old, new)
    changes += _attachments(old, new)
    return changes


def summarize(changes: list[FieldChange], text_diff: TextDiff) -> str:
    """One line for alerts and history: what moved, counts of what was added or removed, text size.

    Example:
        >>> c = [FieldChange("effective", "changed", "2025-11-08", "2025-12-01", "..."),
        ...      FieldChange("code", "added", None, "1C915", "code 1C915 added")]
        >>> summarize(c, TextDiff(ops=(), inserted_chars=120, deleted_chars=35))
        'effective date moved; 1 code added; text: +120/−35 chars'
    """
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        counts[(change.field, change.kind)] += 1
    parts = [_summary_part(f, k, n) for (f, k), n in sorted(counts.items(), key=_summary_key)]
    if text_diff.changed:
        text = f"text: +{text_diff.inserted_chars}/{MINUS}{text_diff.deleted_chars} chars"
        parts.append(text + (" (coarse: diff timed out)" if text_diff.timed_out else ""))
    return "; ".join(parts) if parts else "no changes"


def _summary_key(item: tuple[tuple[str, str], int]) -> tuple[int, str, int]:
    (field, kind), _ = item
    base = field.split(".")[0]
    rank = _FIELD_ORDER.index(base) if base in _FIELD_ORDER else len(_FIELD_ORDER)
    return (rank, field, _SUMMARY_KIND_ORDER[kind])


def _summary_part(field: str, kind: str, n: int) -> str:
    if field in _NOUNS:
        singular, plural = _NOUNS[field]
        return f"{n} {singular if n == 1 else plural} {kind}"
    label = _LABELS.get(field) or field.removeprefix("dates.")
    verb = {"changed": "moved" if _is_date(field) else "changed", "added": "added", "removed": "removed"}[kind]
    return f"{label} {verb}" + (f" ({n}x)" if n > 1 else "")


def _is_date(field: str) -> bool:
    return field.startswith("dates.") or field in dict(_HEADLINE_DATES)


def _scalar(field: str, label: str, old: str | None, new: str | None) -> list[FieldChange]:
    if old == new:
        return []
    if old is None:
        return [FieldChange(field, "added", None, new, f"{label} {new} added")]
    if new is None:
        return [FieldChange(field, "removed", old, None, f"{label} {old} removed")]
    return [FieldChange(field, "changed", old, new, f"{label} {old} {ARROW} {new}")]


def _keyed(
    field: str,
    old_items: Iterable[tuple[Hashable, str]],
    new_items: Iterable[tuple[Hashable, str]],
    describe: Callable[[Hashable, str], str],
    label: Callable[[Hashable], str],
) -> list[FieldChange]:
    """Compare values grouped by key; exactly one value out and one in under a key is a change.

    ``describe(key, value)`` is the text stored in ``FieldChange.old``/``new``;
    the summary is ``label(key)`` followed by it.
    """
    before: dict[Hashable, set[str]] = defaultdict(set)
    after: dict[Hashable, set[str]] = defaultdict(set)
    for key, value in old_items:
        before[key].add(value)
    for key, value in new_items:
        after[key].add(value)
    out: list[tuple[tuple[str, int, str], FieldChange]] = []
    for key in set(before) | set(after):
        removed = sorted(before[key] - after[key])
        added = sorted(after[key] - before[key])
        name, sort_key = label(key), repr(key)
        if len(removed) == 1 and len(added) == 1:
            old_text, new_text = describe(key, removed[0]), describe(key, added[0])
            change = FieldChange(field, "changed", old_text, new_text, _moved(name, old_text, new_text))
            out.append(((sort_key, _KIND_ORDER["changed"], ""), change))
            continue
        for value in removed:
            text = describe(key, value)
            change = FieldChange(field, "removed", text, None, f"{name} {text} removed")
            out.append(((sort_key, _KIND_ORDER["removed"], value), change))
        for value in added:
            text = describe(key, value)
            change = FieldChange(field, "added", None, text, f"{name} {text} added")
            out.append(((sort_key, _KIND_ORDER["added"], value), change))
    return [change for _, change in sorted(out, key=lambda pair: pair[0])]


def _moved(name: str, old_text: str, new_text: str) -> str:
    """``name a b c → d`` for ``a b c`` / ``a b d``: shared leading words once, unless one side is a prefix."""
    old_words, new_words = old_text.split(" "), new_text.split(" ")
    n = 0
    while n < min(len(old_words), len(new_words)) and old_words[n] == new_words[n]:
        n += 1
    if n in (len(old_words), len(new_words)):
        n = 0
    return " ".join([name, *old_words[:n], " ".join(old_words[n:]), ARROW, " ".join(new_words[n:])])


def _typed_dates(old: DocumentRecord, new: DocumentRecord, headline: list[FieldChange]) -> list[FieldChange]:
    def items(record: DocumentRecord, date_type: str) -> list[tuple[Hashable, str]]:
        return [(d.clause or "", d.date.isoformat()) for d in record.dates if d.type == date_type]

    def describe(clause: Hashable, value: str) -> str:
        return f"({clause}) {value}" if clause else value

    # The whole-document published/signed/effective date usually also appears as a typed
    # date without clause; report that move once, as the headline field.
    seen = {(c.field, c.kind, c.old, c.new) for c in headline}
    out: list[FieldChange] = []
    for date_type in sorted({d.type for d in old.dates} | {d.type for d in new.dates}):
        changes = _keyed(
            f"dates.{date_type}", items(old, date_type), items(new, date_type), describe, lambda _k, t=date_type: t
        )
        out += [c for c in changes if (date_type, c.kind, c.old, c.new) not in seen]
    return out


def _codes(old: DocumentRecord, new: DocumentRecord) -> list[FieldChange]:
    def items(record: DocumentRecord) -> list[tuple[Hashable, str]]:
        return [((c.scheme, c.code), c.code) for c in record.codes]

    def label(key: Hashable) -> str:
        return "ECCN" if isinstance(key, tuple) and key[0] == "us-eccn" else "code"

    return _keyed("code", items(old), items(new), lambda _k, code: code, label)


def _set_field(field: str, label: str, old: Iterable[str], new: Iterable[str]) -> list[FieldChange]:
    return _keyed(field, [(v, v) for v in old], [(v, v) for v in new], lambda _k, v: v, lambda _k: label)


def _relations(old: DocumentRecord, new: DocumentRecord) -> list[FieldChange]:
    def items(record: DocumentRecord) -> list[tuple[Hashable, str]]:
        return [(_relation_key(r), _relation_window(r)) for r in record.relations]

    def describe(key: Hashable, window: str) -> str:
        rel_type, target, clause = key  # type: ignore[misc]
        text = f"{rel_type} {target}" + (f" ({clause})" if clause else "")
        return f"{text} {window}" if window else text

    return _keyed("relation", items(old), items(new), describe, lambda _k: "relation")


def _relation_key(r: Relation) -> tuple[str, str, str]:
    return (r.type, r.target_key or r.target_text, r.clause or "")


def _relation_window(r: Relation) -> str:
    parts = []
    if r.since is not None:
        parts.append(f"from {r.since.isoformat()}")
    if r.until is not None:
        parts.append(f"until {r.until.isoformat()}")
    return " ".join(parts)


def _attachments(old: DocumentRecord, new: DocumentRecord) -> list[FieldChange]:
    def describe(url: Hashable, title: str) -> str:
        return f"{title} ({url})" if title else str(url)

    return _keyed(
        "attachment",
        [(a.url, a.title) for a in old.attachments],
        [(a.url, a.title) for a in new.attachments],
        describe,
        lambda _k: "attachment",
    )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


__all__ = ["field_changes", "summarize"]
