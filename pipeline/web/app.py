"""``create_app(store, config)``: the read-only web view (Starlette + Jinja2, server-rendered HTML).

Every page has a stable URL and answers JSON at the same URL with ``?format=json`` or
``Accept: application/json``:

====================================  ===============================================================
``/``                                 changes, newest first (``source``, ``kind``, ``code``, ``element``,
                                      ``since``, ``until``, ``limit``) — the data of ``regwatch history``
``/doc/<key>``                        one document: fields, dates and codes with evidence, appearances,
                                      legal-status timeline with causes, versions (``on=DAY``)
``/doc/<key>/diff/<v1>..<v2>``        field changes, then the text diff side by side (``view=inline``)
``/deadlines``                        legal deadlines around ``on`` (``days`` ahead, ``past`` behind)
``/search?q=``                        the store's full-text search
``/alerts``                           alerts and their delivery state per sink; ``POST /alerts/<id>/ack``
                                      only with ``allow_ack`` and the token in ``X-Regwatch-Token``
``/sources``                          source health, last runs and their errors, held captures
====================================  ===============================================================

Safety: all stored text is untrusted page text. Jinja2 autoescapes everything, bidi and other
invisible controls are shown as ``[U+202E]`` and titles are bidi isolated (``<bdi>``), every response carries a strict Content-Security-Policy (no script at all),
``nosniff`` and ``Referrer-Policy``; the store should be opened with ``Store.open_read_only``.
The only write, acknowledging an alert, goes to ``ack_store`` and only when enabled and the
request carries the token (compared with ``hmac.compare_digest``).

Example:
    >>> from starlette.testclient import TestClient
    >>> from store import Store
    >>> client = TestClient(create_app(Store.in_memory()))
    >>> client.get("/", params={"format": "json"}).json()
    []
"""

from __future__ import annotations

import hmac
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.clock import Clock, SystemClock
from pipeline.config import Config
from pipeline.errors import UserError
from pipeline.web.htmldiff import inline_segments, side_by_side
from pipeline.weblinks import diff_path, doc_path
from store import Store
from store.errors import NotFound, StoreError

HERE = Path(__file__).resolve().parent
TOKEN_HEADER = "X-Regwatch-Token"
CHANGE_KINDS = ("new", "changed", "withdrawn", "status")
MAX_LIMIT = 1000
SECURITY_HEADERS = {
    # No script may run at all (the pages need none); styles and images only from this server.
    "content-security-policy": "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


doc_url, diff_url = doc_path, diff_path  # the templates' names for them

# Bidi controls and other invisible controls (tab and newline kept): a U+202E in a title would
# otherwise show "exe.pdf" as "fdp.exe". Every value a template prints shows them as [U+XXXX].
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def show_controls(value: Any) -> Any:
    """Strings with their invisible and bidi control characters made visible; other values as they are.

    Example:
        >>> show_controls("report\u202efdp.exe")
        'report[U+202E]fdp.exe'
    """
    if isinstance(value, str) and not isinstance(value, Markup):  # Markup: already printed by a template
        return _INVISIBLE.sub(lambda m: f"[U+{ord(m[0]):04X}]", value)
    return value


def safe_href(url: str | None) -> str | None:
    """A scraped link as an ``href`` only when it is http(s); None otherwise (``javascript:`` ...).

    Example:
        >>> safe_href("https://www.mofcom.gov.cn/a.html"), safe_href("javascript:alert(1)")
        ('https://www.mofcom.gov.cn/a.html', None)
    """
    if url and re.match(r"https?://", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


class SecurityHeaders:
    """ASGI middleware adding ``SECURITY_HEADERS`` to every HTTP response (errors and static files too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class _JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_default).encode("utf-8")


def wants_json(request: Request) -> bool:
    """``?format=json``, or an ``Accept`` header asking for JSON rather than HTML."""
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _fmt_time(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def _day(request: Request, name: str) -> date | None:
    value = request.query_params.get(name) or None
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name}={value!r} is not a date", "use YYYY-MM-DD, e.g. 2026-01-31") from None


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    value = request.query_params.get(name) or None
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise UserError(f"{name}={value!r} is not a whole number", f"use e.g. {name}={default}") from None
    if not lo <= number <= hi:
        raise UserError(f"{name}={number} is out of range", f"use {lo} to {hi}")
    return number


def _midnight(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else None


def _text(request: Request, name: str) -> str | None:
    value = (request.query_params.get(name) or "").strip()
    return value or None


class WebView:
    """The pages, bound to one store (read-only), the configuration and a clock."""

    def __init__(self, store: Store, config: Config, clock: Clock, *, allow_ack: bool, token: str | None,
                 ack_store: Store | None) -> None:
        self.store, self.config, self.clock = store, config, clock
        self.allow_ack, self.token, self.ack_store = allow_ack, token, ack_store
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True),
                                     finalize=show_controls)
        self.templates.globals.update(doc_url=doc_url, diff_url=diff_url, fmt_time=_fmt_time, href=safe_href)

    def page(self, request: Request, template: str, data: Any, status_code: int = 200, **context: Any) -> Response:
        if wants_json(request):
            return _JSON(data, status_code=status_code)
        html = self.templates.get_template(template).render(request=request, data=data, **context)
        return HTMLResponse(html, status_code=status_code)

    # -- changes -------------------------------------------------------------------------

    def changes(self, request: Request) -> Response:
        filters = {name: _text(request, name) for name in ("source", "kind", "code", "element")}
        since, until = _day(request, "since"), _day(request, "until")
        limit = _int(request, "limit", 100, 1, MAX_LIMIT)
        rows = self.store.history(source=filters["source"], kind=filters["kind"], code=filters["code"],
                                  element=filters["element"], since=_midnight(since),
                                  until=_midnight(until + timedelta(days=1)) if until else None, limit=limit)
        data = [history_json(r) for r in rows]
        return self.page(request, "changes.html", data, rows=rows, filters=filters, since=since, until=until,
                         limit=limit, sources=[s.slug for s in self.store.sources()], kinds=CHANGE_KINDS)

    # -- one document ----------------------------------------------------------------------

    def document(self, request: Request) -> Response:
        from pipeline.core.headline import headline
        from pipeline.lookup import StatusReader, change_json, load_version, status_json

        key = request.path_params["key"]
        day = _day(request, "on") or self.clock.now().date()
        reader = StatusReader(self.store)
        try:
            stored = load_version(self.store, key, None)
        except NotFound:
            if not self.store.relations_to(key):
                raise
            return self._known_by_relations(request, reader, key, day)
        status = reader.status(key, day)
        timeline = reader.timeline(key, None)
        versions = self.store.versions(stored.document.id)
        appearances = self._appearances(stored.document)
        record = stored.record
        data = record.to_json() | {
            "headline": headline(record),
            "version": stored.version.number,
            "versions": [{"number": v.number, "created_at": v.created_at, "url": v.url, "source": v.source,
                          "content_hash": v.content_hash} for v in versions],
            "status": status_json(status), "timeline": [change_json(c) for c in timeline],
            "appearances": appearances, "fetched": True,
        }
        return self.page(request, "document.html", data, key=key, record=record, status=status, day=day,
                         timeline=timeline, versions=versions, appearances=appearances, incoming=[],
                         headline=data["headline"])

    def _known_by_relations(self, request: Request, reader: Any, key: str, day: date) -> Response:
        from pipeline.lookup import change_json, status_json

        status = reader.status(key, day)
        timeline = reader.timeline(key, None)
        incoming = reader.relations_to(key)
        data = {"doc_key": key, "fetched": False, "status": status_json(status),
                "relations_in": [{"from": src, "type": r.type, "clause": r.clause, "since": r.since, "until": r.until}
                                 for src, r in incoming],
                "timeline": [change_json(c) for c in timeline]}
        return self.page(request, "document.html", data, key=key, record=None, status=status, day=day,
                         timeline=timeline, versions=[], appearances=[], incoming=incoming)

    def _appearances(self, document: Any) -> list[dict[str, Any]]:
        from pipeline.core.authority import authoritative_source

        authority = authoritative_source(document.key, self.config.authority)
        urls = self.store.document_urls(document.id)
        return [{"source": a.source, "url": a.url, "urls": [u.url for u in urls if u.source == a.source],
                 "first_seen": a.first_seen, "last_seen": a.last_seen, "status": a.status, "reference": a.reference,
                 "authoritative": a.source == authority}
                for a in self.store.appearances(document.id)]

    # -- diff ------------------------------------------------------------------------------

    def diff(self, request: Request) -> Response:
        from pipeline.core.diff import diff_texts
        from pipeline.core.fielddiff import field_changes
        from pipeline.lookup import load_version
        from pipeline.core.render_diff import render_inline, render_unified

        key = request.path_params["key"]
        found = re.fullmatch(r"(\d{1,9})\.\.(\d{1,9})", request.path_params["range"])
        if found is None:
            raise UserError(f"{request.path_params['range']!r} is not a version range",
                            "use /doc/<key>/diff/<v1>..<v2>, e.g. /diff/1..2")
        old_n, new_n = int(found[1]), int(found[2])
        older, newer = load_version(self.store, key, old_n), load_version(self.store, key, new_n)
        tdiff = diff_texts(older.record.canonical_text, newer.record.canonical_text)
        changes = field_changes(older.record, newer.record)
        view = "inline" if request.query_params.get("view") == "inline" else "side"
        data = {
            "doc_key": key, "from_version": old_n, "to_version": new_n,
            "field_changes": [{"field": c.field, "kind": c.kind, "old": c.old, "new": c.new, "summary": c.summary}
                              for c in changes],
            "inserted_chars": tdiff.inserted_chars, "deleted_chars": tdiff.deleted_chars,
            "timed_out": tdiff.timed_out, "inline": render_inline(tdiff), "unified": render_unified(tdiff),
        }
        return self.page(request, "diff.html", data, key=key, older=older, newer=newer, changes=changes,
                         tdiff=tdiff, view=view, rows=side_by_side(tdiff) if view == "side" else [],
                         segments=inline_segments(tdiff) if view == "inline" else [],
                         versions=self.store.versions(newer.document.id))

    # -- deadlines, search -------------------------------------------------------------------

    def deadlines(self, request: Request) -> Response:
        from pipeline.lookup import deadline_json, deadlines_around

        day = _day(request, "on") or self.clock.now().date()
        days = _int(request, "days", 90, 0, 3660)
        past = _int(request, "past", 30, 0, 3660)
        found = deadlines_around(self.store, day, days=days, past=past)
        data = [deadline_json(d, day) for d in found]
        return self.page(request, "deadlines.html", data, found=found, day=day, days=days, past=past,
                         start=day - timedelta(days=past), end=day + timedelta(days=days))

    def search(self, request: Request) -> Response:
        from pipeline.core.normalize import canonical_text

        text = request.query_params.get("q") or ""
        query = canonical_text(text) if text.strip() else ""
        limit = _int(request, "limit", 50, 1, MAX_LIMIT)
        hits = self.store.search(query, limit=limit) if query else []
        data = [{"doc_key": h.document_key, "title": h.title, "url": h.url, "version": h.number,
                 "snippet": h.snippet} for h in hits]
        return self.page(request, "search.html", data, q=text, hits=hits, searched=bool(query))

    # -- alerts ------------------------------------------------------------------------------

    def alerts(self, request: Request) -> Response:
        status, sink = _text(request, "status"), _text(request, "sink")
        limit = _int(request, "limit", 100, 1, MAX_LIMIT)
        alerts = self.store.alerts(status=status, sink=sink, limit=limit)
        deliveries = {a.id: self.store.alert_deliveries(a.id) for a in alerts}
        counts = self.store.delivery_counts()
        blocked = [s for s in self.store.sink_states() if s.blocked_at is not None]
        data = {
            "sinks": counts,
            "blocked_sinks": [{"sink": s.name, "reason": s.blocked_reason, "since": s.blocked_at} for s in blocked],
            "alerts": [alert_json(a, deliveries[a.id]) for a in alerts],
            "ack_enabled": self.allow_ack,
        }
        return self.page(request, "alerts.html", data, alerts=alerts, deliveries=deliveries, counts=counts,
                         blocked=blocked, status=status, sink=sink, allow_ack=self.allow_ack,
                         token_header=TOKEN_HEADER)

    async def ack(self, request: Request) -> Response:
        if not self.allow_ack or not self.token or self.ack_store is None:
            return _JSON({"error": "acknowledging is disabled", "hint": "start `regwatch web` with --allow-ack "
                          "--token-env NAME"}, status_code=403)
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8")):
            return _JSON({"error": "missing or wrong token", "hint": f"send it in the {TOKEN_HEADER} header"},
                         status_code=403)
        body: dict[str, Any] = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = json.loads(await request.body() or b"{}")
            except ValueError:
                return _JSON({"error": "the body is not JSON", "hint": 'send e.g. {"by": "alice"}'}, status_code=400)
            body = parsed if isinstance(parsed, dict) else {}
        by = str(body.get("by") or request.query_params.get("by") or "web")[:200]
        note = body.get("note") or request.query_params.get("note")
        alert_id = request.path_params["alert_id"]
        from starlette.concurrency import run_in_threadpool

        alert = await run_in_threadpool(self.ack_store.ack_alert, alert_id, by=by, at=self.clock.now(),
                                        note=str(note)[:2000] if note else None)
        return _JSON({"id": alert.id, "acked_at": alert.acked_at, "acked_by": alert.acked_by,
                      "ack_note": alert.ack_note})

    # -- sources -----------------------------------------------------------------------------

    def sources(self, request: Request) -> Response:
        from pipeline.health import live_health

        summary = self.store.status_summary()
        now = self.clock.now()
        timeout = self.config.defaults.crawl_timeout_seconds
        for slug, src in summary["sources"].items():
            src.update(live_health(self.store, slug, now, crawl_timeout=timeout))
        runs = {slug: self.store.runs(slug, limit=5) for slug in summary["sources"]}
        held = self.store.held_captures(limit=500)
        data = summary | {
            "held_captures": [{"id": c.id, "source": c.source, "url": c.final_url or c.url, "reason": c.error,
                               "held_at": c.processed_at} for c in held],
            "runs": {slug: [{"id": r.id, "status": r.status, "started_at": r.started_at,
                             "finished_at": r.finished_at, "errors": r.errors or []} for r in rs]
                     for slug, rs in runs.items()},
        }
        return self.page(request, "sources.html", data, summary=summary, runs=runs, held=held)

    # -- errors ------------------------------------------------------------------------------

    def error(self, request: Request, status_code: int, message: str, hint: str | None) -> Response:
        return self.page(request, "error.html", {"error": message, "hint": hint}, status_code=status_code,
                         message=message, hint=hint)


def history_json(row: Any) -> dict[str, Any]:
    """One change as JSON: the shape of ``regwatch history --json``."""
    return {
        "created_at": row.created_at, "kind": row.kind, "doc_key": row.document_key, "source": row.source,
        "url": row.url, "title": row.title, "from_version": row.from_number, "to_version": row.to_number,
        "summary": row.summary, "field_changes": row.field_changes,
    }


def alert_json(alert: Any, deliveries: list[Any]) -> dict[str, Any]:
    return {
        "id": alert.id, "kind": alert.kind, "severity": alert.severity, "source": alert.source,
        "doc_key": alert.doc_key, "status": alert.status, "title": (alert.payload or {}).get("title"),
        "created_at": alert.created_at, "acked_at": alert.acked_at, "acked_by": alert.acked_by,
        "deliveries": [{"sink": d.sink, "state": d.state, "attempts": d.attempts, "last_error": d.last_error,
                        "delivered_at": d.delivered_at} for d in deliveries],
    }


def create_app(store: Store, config: Config | None = None, *, clock: Clock | None = None, allow_ack: bool = False,
               token: str | None = None, ack_store: Store | None = None) -> Starlette:
    """The web app over ``store`` (open it with ``Store.open_read_only``).

    ``allow_ack`` with a non-empty ``token`` and a writable ``ack_store`` enables
    ``POST /alerts/<id>/ack``; otherwise it answers 403.
    """
    if allow_ack and (not token or ack_store is None):
        raise ValueError("allow_ack needs a non-empty token and a writable ack_store")
    view = WebView(store, config or Config(), clock or SystemClock(), allow_ack=allow_ack, token=token,
                   ack_store=ack_store)

    def on_not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoreError)
        return view.error(request, 404, exc.message, exc.hint or None)

    def on_user_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UserError)
        return view.error(request, 400, exc.message, exc.hint)

    def on_store_error(request: Request, exc: Exception) -> Response:  # locked, unreachable, corrupt, ...
        assert isinstance(exc, StoreError)
        return view.error(request, 503, exc.message, exc.hint or None)

    def on_http(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 500)
        return view.error(request, code, str(getattr(exc, "detail", "")) or "not found", None)

    routes = [
        Route("/", view.changes, name="changes"),
        Route("/doc/{key:path}/diff/{range}", view.diff, name="diff"),
        Route("/doc/{key:path}", view.document, name="document"),
        Route("/deadlines", view.deadlines, name="deadlines"),
        Route("/search", view.search, name="search"),
        Route("/alerts", view.alerts, name="alerts"),
        Route("/alerts/{alert_id:int}/ack", view.ack, methods=["POST"], name="ack"),
        Route("/sources", view.sources, name="sources"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware

    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], exception_handlers={
        NotFound: on_not_found, UserError: on_user_error, StoreError: on_store_error,
        HTTPException: on_http,
    })


__all__ = ["SECURITY_HEADERS", "TOKEN_HEADER", "create_app", "diff_url", "doc_url", "wants_json"]
