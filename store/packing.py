"""Texts stored once: the row layout of ``Version.fields`` and of ``Appearance`` content (migration 0009).

Readers see every copy they always saw; only the stored rows drop the copies (issue 11, storage):

* ``Version.fields`` (the record's ``to_json()``) repeats four columns of its row: ``source``,
  ``url``, ``title`` and ``text``. A key whose value equals its column is stored as JSON ``true``
  in place (the key and its order stay; no such value is a string or null, what those keys hold)
  and the column's value is put back when the row is loaded. A value that differs from its
  column is stored as given; fields without the key stay without it.
* ``Version.text`` is nearly its ``canonical_text`` (the same characters, NFKC-folded, after the
  title): it is stored as raw DEFLATE with the canonical text as preset dictionary (base85), which
  takes ~60 bytes instead of ~850, in ``fields["text"]`` as ``{"deflated": ...}``; the ``text``
  column is then ``""``. Decompression gives the exact text back (checked when written); a text
  that does not pack smaller, or a version without ``fields["text"]``, keeps the plain column.
  ``canonical_text`` (what search indexes) stays plain.
* An appearance whose content is exactly its version's (``canonical_text`` and ``fields``, the
  usual case: what the reference source showed last *is* the latest version) stores
  ``canonical_text = ""`` and ``fields`` JSON ``null``, and both are read from the version when
  the row is loaded. A copy that differs from every version keeps its own.

The ORM ``load``/``refresh`` events below restore the content for every ``select(Version)``,
``select(Appearance)`` and ``session.get``; core queries that read ``fields`` or
``appearance.canonical_text`` directly see the stored form (``store.rekey`` handles it).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from store.models import Appearance, Version

COLUMN_KEYS = ("source", "url", "title", "text")
"""Keys of ``Version.fields`` that repeat a column of the version row (the same name)."""
_SAME = True  # what a key stores when its value is the column's
_DEFLATED = "deflated"  # fields["text"] = {"deflated": base85(raw DEFLATE of text, dictionary canonical_text)}
_WBITS = -15  # raw DEFLATE: no zlib header or checksum (the text is checked when written)


def pack_fields(fields: dict[str, Any], columns: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as a version row stores it: each of ``COLUMN_KEYS`` equal to its column becomes ``true``.

    Example:
        >>> pack_fields({"url": "u", "title": None, "text": "body", "n": 1}, {"url": "u", "title": "", "text": "body"})
        {'url': True, 'title': None, 'text': True, 'n': 1}
    """
    packed = dict(fields)
    for key in COLUMN_KEYS:
        if key in packed and not (packed[key] is None or isinstance(packed[key], str)):
            raise ValueError(f"fields[{key!r}] must be a string or None (the record's {key}), not {packed[key]!r}")
        if key in packed and key in columns and packed[key] == columns[key]:
            packed[key] = _SAME
    return packed


def unpack_fields(stored: Any, columns: dict[str, Any]) -> Any:
    """The fields a reader sees for a stored version row (the inverse of ``pack_fields``).

    Example:
        >>> unpack_fields({"title": True, "text": True, "n": 1}, {"title": "t", "text": "body"})
        {'title': 't', 'text': 'body', 'n': 1}
    """
    if not isinstance(stored, dict) or not any(stored.get(key) is _SAME for key in COLUMN_KEYS):
        return stored  # (a deflated text is put back by unpack_version first)
    return {key: columns[key] if key in COLUMN_KEYS and value is _SAME else value for key, value in stored.items()}


def version_columns(row: Any, text: str | None = None) -> dict[str, Any]:
    """The columns ``Version.fields`` may refer to, from a version row (ORM object or core row)."""
    values = row.__dict__ if isinstance(row, Version) else row._mapping
    return {key: values.get(key) for key in COLUMN_KEYS} | ({} if text is None else {"text": text})


def _deflate(text: str, canonical_text: str) -> str | None:
    if not text or not canonical_text:
        return None
    packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, canonical_text.encode())
    data = base64.b85encode(packer.compress(text.encode()) + packer.flush()).decode("ascii")
    if len(data) >= len(text.encode()) or _inflate(data, canonical_text) != text:
        return None
    return data


def _inflate(data: str, canonical_text: str) -> str:
    unpacker = zlib.decompressobj(_WBITS, zdict=canonical_text.encode())
    return (unpacker.decompress(base64.b85decode(data)) + unpacker.flush()).decode()


def pack_version(fields: dict[str, Any], columns: dict[str, Any], canonical_text: str) -> tuple[str, dict[str, Any]]:
    """(``text`` column, ``fields``) as a version row stores them (see module doc).

    Example:
        >>> text, fields = pack_version({"text": "第一条，出口。"}, {"text": "第一条，出口。"}, "标题\\n第一条,出口。")
        >>> text, list(fields["text"])
        ('', ['deflated'])
        >>> unpack_version(text, fields, {"text": text}, "标题\\n第一条,出口。")
        ('第一条，出口。', {'text': '第一条，出口。'})
    """
    packed = pack_fields(fields, columns)
    if packed.get("text") is _SAME and (data := _deflate(columns["text"], canonical_text)) is not None:
        return "", {**packed, "text": {_DEFLATED: data}}
    return columns["text"], packed


def unpack_version(text: str, fields: Any, columns: dict[str, Any], canonical_text: str) -> tuple[str, Any]:
    """(text, fields) as readers see them, from a stored version row (the inverse of ``pack_version``)."""
    stored = fields.get("text") if isinstance(fields, dict) else None
    if isinstance(stored, dict) and isinstance(stored.get(_DEFLATED), str):
        text = _inflate(stored[_DEFLATED], canonical_text)
        fields = {**fields, "text": _SAME}
    return text, unpack_fields(fields, {**columns, "text": text})


def shares_version(canonical_text: str, fields: dict[str, Any], version: Version | None) -> bool:
    """True when an appearance's content is exactly ``version``'s, so the row need not store it."""
    return version is not None and version.canonical_text == canonical_text and version.fields == fields


def pack_appearance(row: Appearance, version: Version | None) -> None:
    """Store ``row``'s content by reference when it is its version's (see module doc); the object
    keeps showing the content (``restore_appearance`` after the flush)."""
    if shares_version(row.canonical_text, row.fields, version):
        row.canonical_text, row.fields = "", None  # type: ignore[assignment]


def restore(row: Version | Appearance, **values: Any) -> None:
    """Put what readers see back on a flushed or loaded row without marking it changed."""
    for name, value in values.items():
        set_committed_value(row, name, value)


_VERSION = Version.__table__  # type: ignore[attr-defined]
_READ = (_VERSION.c.canonical_text, _VERSION.c.fields, *(_VERSION.c[key] for key in COLUMN_KEYS))


def _stored(row: Any) -> tuple[str, Any]:
    """(text, fields) readers see for a core row of ``_READ`` columns."""
    return unpack_version(row.text, row.fields, version_columns(row), row.canonical_text)


@event.listens_for(Version, "load")
@event.listens_for(Version, "refresh")
def _version_loaded(target: Version, *_args: Any) -> None:
    values = target.__dict__
    if "fields" not in values or "text" not in values or "canonical_text" not in values:
        return
    text, fields = unpack_version(values["text"], values["fields"], version_columns(target), values["canonical_text"])
    if fields is not values["fields"]:
        restore(target, text=text, fields=fields)


@event.listens_for(Appearance, "load")
@event.listens_for(Appearance, "refresh")
def _appearance_loaded(target: Appearance, *_args: Any) -> None:
    if target.__dict__.get("fields", {}) is not None or target.version_id is None:
        return
    session = object_session(target)
    if session is None:
        return
    row = session.connection().execute(sa.select(*_READ).where(_VERSION.c.id == target.version_id)).one()
    restore(target, canonical_text=row.canonical_text, fields=_stored(row)[1])


# Whole-table rewrites (migration 0009 packs; store.rekey unpacks, works on full rows, packs again).
# Lightweight tables of the columns read and written, as in store.rekey.
_VER = sa.table("version", sa.column("id", sa.Integer), sa.column("canonical_text", sa.Text),
                sa.column("fields", sa.JSON), *(sa.column(key, sa.Text) for key in COLUMN_KEYS))
_APP = sa.table("appearance", sa.column("id", sa.Integer), sa.column("version_id", sa.Integer),
                sa.column("canonical_text", sa.Text), sa.column("fields", sa.JSON))
_PAGE = 500


def _pages(conn: sa.Connection, table: sa.TableClause) -> Iterator[Sequence[sa.Row[Any]]]:
    last = 0
    while rows := conn.execute(sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(_PAGE)).all():
        yield rows
        last = rows[-1].id


def _versions(conn: sa.Connection, ids: Iterable[int]) -> dict[int, tuple[str, Any]]:
    """(canonical text, fields as readers see them) of the versions ``ids``."""
    query = sa.select(_VER).where(_VER.c.id.in_(sorted(set(ids))))
    return {row.id: (row.canonical_text, _stored(row)[1]) for row in conn.execute(query)}


def pack_rows(conn: sa.Connection) -> tuple[int, int]:
    """Store every version's and appearance's copies once (see module doc); returns how many
    (versions, appearances) rows were rewritten. Idempotent; what readers see does not change."""
    versions = appearances = 0
    for rows in _pages(conn, _VER):
        for row in rows:
            if not isinstance(row.fields, dict):
                continue
            text, fields = _stored(row)
            try:
                packed = pack_version(fields, version_columns(row, text), row.canonical_text)
            except ValueError:  # not a string where the record has one: kept as written
                continue
            if packed != (row.text, row.fields):
                conn.execute(_VER.update().where(_VER.c.id == row.id).values(text=packed[0], fields=packed[1]))
                versions += 1
    for rows in _pages(conn, _APP):
        own = [row for row in rows if row.version_id is not None and isinstance(row.fields, dict)]
        content = _versions(conn, (row.version_id for row in own))
        for row in own:
            if content.get(row.version_id) == (row.canonical_text, row.fields):
                conn.execute(_APP.update().where(_APP.c.id == row.id).values(canonical_text="", fields=sa.JSON.NULL))
                appearances += 1
    return versions, appearances


def unpack_rows(conn: sa.Connection) -> None:
    """Write every copy back into its row (the inverse of ``pack_rows``), for code that reads and
    rewrites whole rows with core queries (``store.rekey``)."""
    for rows in _pages(conn, _APP):
        shared = [row for row in rows if row.fields is None and row.version_id is not None]
        content = _versions(conn, (row.version_id for row in shared))
        for row in shared:
            canonical, fields = content[row.version_id]
            conn.execute(_APP.update().where(_APP.c.id == row.id).values(canonical_text=canonical, fields=fields))
    for rows in _pages(conn, _VER):
        for row in rows:
            text, fields = _stored(row)
            if fields is not row.fields:
                conn.execute(_VER.update().where(_VER.c.id == row.id).values(text=text, fields=fields))


__all__ = ["COLUMN_KEYS", "pack_appearance", "pack_fields", "pack_rows", "pack_version", "restore", "shares_version",
           "unpack_fields", "unpack_rows", "unpack_version", "version_columns"]
