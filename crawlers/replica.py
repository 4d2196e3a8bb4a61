"""A local replica of a regulator site for the demo and the spider tests (127.0.0.1 only).

A site directory (e.g. ``crawlers/replica_sites/mofcom``) holds ``site.json`` (jpaas ids and
columns), a ``base/`` tree of files and overlay states ``state-<name>/`` that shadow ``base/``
file by file (a state's ``_site.json`` may say ``"extends": "<state>"`` to overlay another state
instead of ``base/`` directly); ``_behaviours.json`` in a state (or in ``base/``, for behaviours of the site
itself) maps paths to fault behaviours, and ``_site.json`` in a state overrides ``site.json`` keys
while that state is served (e.g. ``fragment_item``: a list layout the spider cannot read). The server imitates MOFCOM's openresty front: bare
``Content-Type: text/html``, ETag/Last-Modified on static files (304 on a matching
``If-None-Match``, else on an ``If-Modified-Since`` not before Last-Modified), and the jpaas ``page/build/unit`` list API. Optional ``site.json`` keys
for other sites: ``server`` (Server header), ``content_types`` (suffix → Content-Type),
``parse_type`` (the unit API answers success=false to another ``parseType``),
``fragment_item`` / ``fragment_wrap`` (``str.format`` templates of the unit-API fragment),
``require_ua_prefix`` (a User-Agent without it gets the 403 WAF page, like METI's AWS WAF).

Fault behaviours (by ``_behaviours.json``, by ``?__replica=<name>`` on any URL, or by
``server.inject(path, name)``): ``reset`` / ``reset-once`` (TCP RST), ``412`` and ``403`` (WAF
challenge page), ``521`` (JS-cookie challenge), ``202-empty``, ``empty-200``, ``ssi-error``,
``404``, ``500``, ``redirect-offsite`` (302 to the same path on ``localhost``: this server under
another host name, which a crawl of ``127.0.0.1`` must not follow); with an argument after a
colon: ``429:N`` / ``503:N`` (that status with ``Retry-After: N``; N may be an HTTP-date),
``big:N`` (an N MB page with its Content-Length) and ``big-chunked:N`` (the same, streamed in
chunks with no length, so only the bytes received tell its size).

Run: ``python -m crawlers.replica crawlers/replica_sites/mofcom --port 8800 [--state 2]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import socket
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SITES_DIR = Path(__file__).resolve().parent / "replica_sites"
UNIT_API_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
BEHAVIOURS = ("reset", "reset-once", "412", "403", "521", "202-empty", "empty-200", "ssi-error", "404", "500",
              "redirect-offsite")
BEHAVIOURS_WITH_ARGUMENT = ("429", "503", "big", "big-chunked")  # "name:argument"
OTHER_HOST_PLACEHOLDER = "{{OTHER_HOST}}"

WAF_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>访问验证</title></head>
<body><div class="challenge-container"><p>请开启JavaScript并刷新该页。</p></div>
<script>document.cookie="wzws_cid=0f3a9c;path=/";setTimeout(function(){location.reload();},1500);</script>
</body></html>"""
# Knownsec/加速乐-style cookie challenge (MIIT, RSSHub #8351/#8896): HTTP 521 and a script that sets
# __jsl_clearance and reloads.
JSL_PAGE = """<html><body><script>document.cookie=('_')+('_jsl_clearance')+('=1763870000.123|0|')+('abc%3D');
location.href=location.pathname+location.search</script></body></html>"""
NOT_FOUND_PAGE = """<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>openresty</center>
</body>
</html>
"""
SSI_ERROR = "[an error occurred while processing this directive]"
CONTENT_TYPES = {
    ".html": "text/html",  # MOFCOM sends no charset (seen 2026)
    ".htm": "text/html",
    ".json": "application/json;charset=UTF-8",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
}


FRAGMENT_ITEM = ('<li><a href="{href}" target="_blank" title="{title}">{title}</a>'
                 '<span>[{date}]</span></li>')
FRAGMENT_WRAP = ('<div class="u-newsList01"><ul class="txtList_01 f-mt20" count="{total}">{items}</ul>'
                 '<div class="m-page" pageNo="{page_no}" pageCount="{pages}" pageSize="{page_size}"></div></div>')


def site_path(name: str) -> Path:
    """The packaged replica site directory for a source slug.

    Example:
        >>> site_path("mofcom").name
        'mofcom'
    """
    path = SITES_DIR / name
    if not (path / "site.json").is_file():
        raise FileNotFoundError(f"replica: no site.json under {path}; known sites: "
                                f"{sorted(p.name for p in SITES_DIR.iterdir() if p.is_dir())}")
    return path


@dataclass
class LoggedRequest:
    """One request the replica answered (for test assertions)."""

    method: str
    path: str
    headers: dict[str, str]
    status: int | None = None
    behaviour: str | None = None


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length


class ReplicaServer:
    """Serve a replica site on a background thread.

    Example:
        >>> with ReplicaServer(site_path("mofcom")) as server:  # doctest: +SKIP
        ...     server.set_state("2")
        ...     url = server.base_url + "/zwgk/zcfb/index.html"
    """

    def __init__(self, site_dir: str | Path, host: str = "127.0.0.1", port: int = 0, *, state: str = "base") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"replica: refusing to bind {host!r}; the replica binds loopback only")
        self.site_dir = Path(site_dir)
        self.site_config: dict[str, Any] = json.loads((self.site_dir / "site.json").read_text(encoding="utf-8"))
        self.config: dict[str, Any] = dict(self.site_config)  # with the served state's _site.json over it
        self.host = host
        self.port = port
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._injected: dict[str, list[str]] = {}
        self._reset_done: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.state = "base"
        self.chain: list[str] = []  # the served state and the states it extends, nearest first
        self.set_state(state)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "ReplicaServer":
        handler = type("ReplicaHandler", (_Handler,), {"replica": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="replica", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ReplicaServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- state -----------------------------------------------------------------------------
    def states(self) -> list[str]:
        """Available state names: ``base`` plus every ``state-<name>`` directory."""
        return ["base"] + sorted(p.name.removeprefix("state-") for p in self.site_dir.glob("state-*") if p.is_dir())

    def set_state(self, name: str) -> None:
        """Serve ``state-<name>/`` over ``base/`` from now on (``"base"`` = no overlay).

        A state whose ``_site.json`` has ``"extends": "<other state>"`` is served over that state
        (files, behaviours and site keys), and so on down to ``base/``.
        """
        name = str(name)
        chain: list[str] = []
        config: dict[str, Any] = {}
        current: str | None = name
        while current is not None and current != "base":
            if current not in self.states():
                raise ValueError(f"replica: unknown state {current!r} in {self.site_dir}; states: {self.states()}")
            if current in chain:
                raise ValueError(f"replica: state {current!r} extends itself in {self.site_dir}")
            chain.append(current)
            overrides = self.site_dir / f"state-{current}" / "_site.json"
            own = json.loads(overrides.read_text(encoding="utf-8")) if overrides.is_file() else {}
            config = {**own, **config}  # the served state's keys win over the states it extends
            current = own.get("extends")
        config = {**self.site_config, **{k: v for k, v in config.items() if k != "extends"}}
        with self._lock:
            self.state = name
            self.chain = chain
            self.config = config
            self._reset_done.clear()

    def inject(self, path: str, behaviour: str, *, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``path`` with a fault behaviour."""
        if behaviour not in BEHAVIOURS and behaviour.partition(":")[0] not in BEHAVIOURS_WITH_ARGUMENT:
            raise ValueError(f"replica: unknown behaviour {behaviour!r}; choose from {BEHAVIOURS}")
        with self._lock:
            self._injected.setdefault(path, []).extend([behaviour] * times)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _layers(self) -> list[Path]:
        return [self.site_dir / f"state-{name}" for name in self.chain] + [self.site_dir / "base"]

    def _find(self, rel: str) -> Path | None:
        for layer in self._layers():
            path = (layer / rel).resolve()
            if layer.resolve() in path.parents and path.is_file():
                return path
        return None

    def _behaviour(self, path: str, query: Mapping[str, list[str]]) -> str | None:
        with self._lock:
            queue = self._injected.get(path)
            if queue:
                return queue.pop(0)
        if "__replica" in query:
            return query["__replica"][-1]
        name = None
        for layer in self._layers():  # the state's table first, then the site's own (base/)
            table_file = layer / "_behaviours.json"
            table = json.loads(table_file.read_text(encoding="utf-8")) if table_file.is_file() else {}
            if path in table:
                name = table[path]
                break
        if name == "reset-once":
            with self._lock:
                if path in self._reset_done:
                    return None
                self._reset_done.add(path)
        return name

    # -- responses -------------------------------------------------------------------------
    def reply(self, method: str, target: str, headers: Mapping[str, str]) -> _Reply | None:
        """The answer to one request, or None to reset the connection."""
        parts = urlsplit(target)
        path = "/" + "/".join(seg for seg in unquote(parts.path).split("/") if seg)  # //fms → /fms
        if parts.path.endswith("/"):
            path = path.rstrip("/") + "/index.html"
        query = parse_qs(parts.query, keep_blank_values=True)
        behaviour = self._behaviour(path, query)
        if behaviour in ("reset", "reset-once"):
            return None
        if behaviour == "redirect-offsite":
            location = f"http://localhost:{self.port}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            return _Reply(302, b"", {"Location": location, "Content-Type": "text/html"})
        if behaviour:
            return _fault(behaviour)
        ua_prefix = self.config.get("require_ua_prefix")
        if ua_prefix and not _header(headers, "user-agent").startswith(ua_prefix):
            return _fault("403")
        if path == UNIT_API_PATH:
            return self._unit_api(method, query, headers)
        if method not in ("GET", "HEAD"):
            return _Reply(405, b"", {"Content-Type": "text/html"})
        file = self._find(path.lstrip("/"))
        if file is None:
            return _Reply(404, NOT_FOUND_PAGE.encode(), {"Content-Type": "text/html"})
        body = file.read_bytes()
        etag = f'W/"{hashlib.md5(body).hexdigest()[:8]}-{len(body):x}"'
        content_types = {**CONTENT_TYPES, **self.config.get("content_types", {})}
        reply_headers = {
            "Content-Type": content_types.get(file.suffix.lower(), "application/octet-stream"),
            "ETag": etag,
            "Last-Modified": self.config.get("last_modified", formatdate(usegmt=True)),
        }
        if path in self._shells():  # the WAF hands out its session cookie on page views
            cookie = self.config.get("require_cookie")
            if cookie:
                reply_headers["Set-Cookie"] = f"{cookie}={hashlib.md5(path.encode()).hexdigest()[:16]}; Path=/; HttpOnly"
        if _not_modified(headers, etag, reply_headers["Last-Modified"]):
            return _Reply(304, b"", reply_headers)
        return _Reply(200, body, reply_headers)

    def _shells(self) -> list[str]:
        return [col["shell"] for col in self.config.get("columns", {}).values()]

    def _unit_api(self, method: str, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> _Reply:
        json_headers = {"Content-Type": "application/json;charset=UTF-8"}
        if method != "GET":  # probed 2026: POST → 500 "不支持的HTTP方法"
            body = {"success": False, "message": "不支持的HTTP方法"}
            return _Reply(500, json.dumps(body, ensure_ascii=False).encode(), json_headers)
        if self.config.get("require_referer") and not _header(headers, "referer"):
            return _fault("412")  # MOFCOM's WAF answers API calls without Referer with a challenge
        cookie = self.config.get("require_cookie")
        if cookie and f"{cookie}=" not in _header(headers, "cookie"):
            return _fault("412")
        params = {k: v[-1] for k, v in query.items()}
        column = self.config.get("columns", {}).get(params.get("pageId", ""))
        parse_type = self.config.get("parse_type")
        if (column is None or params.get("webId") != self.config.get("web_id")
                or (parse_type and params.get("parseType") != parse_type)):
            body = {"success": False, "message": "参数错误", "data": None}
            return _Reply(200, json.dumps(body, ensure_ascii=False).encode(), json_headers)
        try:
            paging = json.loads(params.get("paramJson") or "{}")
            page_no, page_size = max(1, int(paging.get("pageNo", 1))), max(1, int(paging.get("pageSize", 15)))
        except (ValueError, TypeError, AttributeError):
            page_no, page_size = 1, 15
        list_file = self._find(column["list"])
        items = json.loads(list_file.read_text(encoding="utf-8"))["items"] if list_file else []
        templates = (self.config.get("fragment_item", FRAGMENT_ITEM), self.config.get("fragment_wrap", FRAGMENT_WRAP))
        html = _fragment(items, page_no, page_size, *templates).replace(OTHER_HOST_PLACEHOLDER, f"localhost:{self.port}")
        body = {"success": True, "message": "操作成功", "data": {"html": html}}
        return _Reply(200, json.dumps(body, ensure_ascii=False).encode(), json_headers)

    def log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)


def _fragment(items: list[dict[str, str]], page_no: int, page_size: int, item_tpl: str = FRAGMENT_ITEM,
              wrap_tpl: str = FRAGMENT_WRAP) -> str:
    total = len(items)
    pages = max(1, math.ceil(total / page_size))
    chunk = items[(page_no - 1) * page_size: page_no * page_size]
    lis = "".join(item_tpl.format(href=escape(it["href"]), title=escape(it["title"]), date=escape(it["date"]))
                  for it in chunk)
    return wrap_tpl.format(total=total, items=lis, page_no=page_no, pages=pages, page_size=page_size)


def _fault(name: str) -> _Reply:
    html = {"Content-Type": "text/html"}
    name, _, argument = name.partition(":")
    if name in ("429", "503") and argument:
        return _Reply(int(name), b"<html><body>Too busy; come back later</body></html>",
                      {**html, "Retry-After": argument})
    if name in ("big", "big-chunked") and argument:
        return _Reply(200, _big_page(float(argument)), html, chunked=name == "big-chunked")
    if name in ("412", "403"):
        return _Reply(int(name), WAF_PAGE.encode(), html)
    if name == "521":
        return _Reply(521, JSL_PAGE.encode(), html)
    if name == "202-empty":
        return _Reply(202, b"", html)
    if name == "empty-200":
        return _Reply(200, b"", html)
    if name == "ssi-error":
        return _Reply(200, SSI_ERROR.encode(), html)
    if name == "404":
        return _Reply(404, NOT_FOUND_PAGE.encode(), html)
    if name == "500":
        return _Reply(500, b"<html><body>500 Internal Server Error</body></html>", html)
    raise ValueError(f"replica: unknown behaviour {name!r}; choose from {BEHAVIOURS}")


def _big_page(megabytes: float) -> bytes:
    """An HTML page of about ``megabytes`` MB (one paragraph repeated)."""
    paragraph = "<p>第一条 为了维护国家安全和利益，加强和规范出口管制，制定本办法。</p>\n".encode()
    count = max(1, int(megabytes * 1024 * 1024) // len(paragraph))
    return b"<html><head><meta charset='utf-8'><title>big</title></head><body>" + paragraph * count + b"</body></html>"


def _not_modified(headers: Mapping[str, str], etag: str, last_modified: str) -> bool:
    """RFC 9110 §13.2.2: ``If-None-Match`` decides when sent (any listed tag, weak comparison);
    else ``If-Modified-Since`` on or after ``Last-Modified``.

    Example:
        >>> lm = "Thu, 19 Sep 2024 02:14:25 GMT"
        >>> _not_modified({"If-None-Match": 'W/"a"'}, 'W/"a"', lm), _not_modified({"If-Modified-Since": lm}, 'W/"a"', lm)
        (True, True)
        >>> _not_modified({"If-None-Match": 'W/"b"', "If-Modified-Since": lm}, 'W/"a"', lm)
        False
    """
    sent = _header(headers, "if-none-match")
    if sent:
        tags = {t.strip().removeprefix("W/") for t in sent.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = _header(headers, "if-modified-since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


class _Handler(BaseHTTPRequestHandler):
    replica: ReplicaServer
    server_version = "openresty"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return str(self.replica.config.get("server", "openresty"))

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._answer("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer("POST")

    def _answer(self, method: str) -> None:
        headers = {k: v for k, v in self.headers.items()}
        entry = LoggedRequest(method=method, path=self.path, headers=headers)
        self.replica.log(entry)
        reply = self.replica.reply(method, self.path, headers)
        if reply is None:
            entry.behaviour = "reset"
            # SO_LINGER 0 makes close() send a TCP RST: "connection reset by peer" on the client.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        entry.status = reply.status
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if method == "HEAD" or reply.status == 304:
            return
        if not reply.chunked:
            self.wfile.write(reply.body)
            return
        try:
            for start in range(0, len(reply.body), 64 * 1024):
                chunk = reply.body[start:start + 64 * 1024]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its size cap): fine
            self.close_connection = True

    def finish(self) -> None:
        if self.connection.fileno() == -1:  # reset on purpose: nothing left to flush
            return
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (silence stderr logging)
        return


def main(argv: list[str] | None = None) -> int:
    """Command line: serve a replica site until interrupted.

    Example:
        python -m crawlers.replica crawlers/replica_sites/mofcom --port 8800 --state 2
    """
    parser = argparse.ArgumentParser(prog="python -m crawlers.replica", description=__doc__.splitlines()[0])
    parser.add_argument("site", help="site directory, or a packaged site name such as 'mofcom'")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--state", default="base")
    args = parser.parse_args(argv)
    site = Path(args.site) if Path(args.site).is_dir() else site_path(args.site)
    server = ReplicaServer(site, host=args.host, port=args.port, state=args.state)
    with server:
        print(f"replica of {site} on {server.base_url} (state {server.state}); Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
