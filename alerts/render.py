"""Pure rendering of an Alert: Slack Block Kit (escaped, within Slack's limits) and plain text."""

from __future__ import annotations

import re
from typing import Any

from alerts.base import Alert

KIND_LABELS = {
    "new": "NEW",
    "changed": "CHANGED",
    "withdrawn": "WITHDRAWN",
    "status": "STATUS",
    "deadline": "DEADLINE",
    "source_health": "SOURCE HEALTH",
    "sink_health": "ALERT DELIVERY",
}
SEVERITY_MARKS = {"info": "●", "warning": "▲", "critical": "■"}

# Slack limits (ECOSYSTEM.md §6; slack_sdk models/blocks/blocks.py) and our own budgets.
HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_PER_SECTION = 10
BLOCKS_MAX = 50
MESSAGE_BUDGET = 12_000  # hidden msg_blocks_too_long near 13k total (bolt-js#2509)
FALLBACK_MAX = 1000
SUMMARY_MAX = 2000
FACT_FIELD_MAX = 500
FACTS_BUDGET = 3000
LINKS_BUDGET = 1000
TAGS_BUDGET = 1000
CONTEXT_MAX = 300
NOTE_MAX = 200
URL_MAX = 800

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SAFE_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


def escape_mrkdwn(text: str) -> str:
    """Escape exactly ``&`` (first), ``<`` and ``>`` so scraped text cannot mention or link, and
    strip control and bidi-override characters (a U+202E in a title reverses what a reader sees).

    Example:
        >>> escape_mrkdwn("<!channel> & <@U123> <http://evil|click>")
        '&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;http://evil|click&gt;'
        >>> escape_mrkdwn("公告\u202egnp.exe\x07")
        '公告gnp.exe'
    """
    text = _CONTROL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(escaped: str, limit: int) -> str:
    """Shorten already-escaped text to ``limit`` characters with ``…``, never splitting ``&amp;``.

    Example:
        >>> fit("a &amp; b", 4)
        'a …'
        >>> fit("short", 10)
        'short'
    """
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def one_line(text: str) -> str:
    """Collapse line breaks and whitespace runs so a field renders on one line.

    Example:
        >>> one_line(" a\\n  b\\r\\n")
        'a b'
    """
    return " ".join(text.split())


def terminal_safe(text: str) -> str:
    """Replace control and bidi-override characters (terminal escape injection) with U+FFFD.

    Example:
        >>> terminal_safe("ok\\x1b[31mred")
        'ok\\ufffd[31mred'
    """
    return _CONTROL.sub("\ufffd", text)


def headline(alert: Alert) -> str:
    """The one-line, unescaped summary: label, source, key and title.

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(1, "new", "info", "mofcom", "mofcom:2025:61", "T", "", "https://x.test/",
        ...           datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> headline(a)
        'NEW  mofcom  mofcom:2025:61 — T'
    """
    label = KIND_LABELS[alert.kind]
    if alert.severity != "info":
        label += f" [{alert.severity}]"
    parts = [label, alert.source] + ([alert.doc_key] if alert.doc_key else [])
    return "  ".join(parts) + " — " + one_line(alert.title or "(untitled)")


def _diff_hint(alert: Alert) -> str:
    return f"see `regwatch diff {alert.doc_key}`" if alert.doc_key else "see the source page"


# --------------------------------------------------------------------------- plain text


def plain_lines(alert: Alert, *, max_diff_lines: int | None = 40) -> list[tuple[str, str]]:
    """The plain rendering as ``(role, line)`` pairs; roles let a console colour by meaning.

    Roles: ``head``, ``headline`` (the English headline, when the alert has one), ``summary``, ``fact``, ``tags``, ``link``, ``diff_head``, ``diff_add``,
    ``diff_del``, ``diff``, ``note``. All text is terminal-safe (no control characters).

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(1, "changed", "warning", "miit", None, "T", "S", "https://x.test/",
        ...           datetime(2025, 1, 1, tzinfo=timezone.utc), diff_text="- a\\n+ b")
        >>> [role for role, _ in plain_lines(a)]
        ['head', 'summary', 'link', 'diff_head', 'diff_del', 'diff_add']
    """
    safe = terminal_safe
    lines = [("head", f"{SEVERITY_MARKS[alert.severity]} {safe(headline(alert))}")]
    if alert.headline:
        lines.append(("headline", f"  {safe(one_line(alert.headline))}"))
    if alert.summary.strip():
        lines.append(("summary", f"  {safe(one_line(alert.summary))}"))
    lines += [("fact", f"  {safe(one_line(label))}: {safe(one_line(value)) or '—'}") for label, value in alert.facts]
    if alert.tags:
        lines.append(("tags", f"  Tags: {safe(', '.join(alert.tags))}"))
    if alert.url:
        lines.append(("link", f"  {safe(one_line(alert.url))}"))
    lines += [("link", f"  {safe(one_line(label))}: {safe(one_line(url))}") for label, url in alert.links]
    if alert.diff_text:
        diff = alert.diff_text.splitlines()
        shown = diff if max_diff_lines is None else diff[:max_diff_lines]
        lines.append(("diff_head", "  Diff:"))
        for line in shown:
            role = "diff_add" if line.startswith("+") else "diff_del" if line.startswith("-") else "diff"
            lines.append((role, f"    {safe(line)}"))
        if len(shown) < len(diff):
            lines.append(("note", f"    …{len(diff) - len(shown)} more lines, {_diff_hint(alert)}"))
    return lines


def to_plain(alert: Alert, *, max_diff_lines: int | None = 40) -> str:
    """Human-readable multi-line block (console, logs, e-mail); no trailing newline.

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(1, "new", "info", "mofcom", "mofcom:2025:61", "T", "S", "https://x.test/",
        ...           datetime(2025, 1, 1, tzinfo=timezone.utc), facts=[("Effective", "2025-12-01")])
        >>> print(to_plain(a))
        ● NEW  mofcom  mofcom:2025:61 — T
          S
          Effective: 2025-12-01
          https://x.test/
    """
    return "\n".join(text for _, text in plain_lines(alert, max_diff_lines=max_diff_lines))


# --------------------------------------------------------------------------- Block Kit


def mrkdwn_link(url: str, label: str) -> str:
    """A safe ``<url|label>`` link; non-http(s) URLs are shown as escaped text, not linked.

    Example:
        >>> mrkdwn_link("https://x.test/a?b=1&c=<2>|", "Go <now>")
        '<https://x.test/a?b=1&amp;c=%3C2%3E%7C|Go &lt;now&gt;>'
        >>> mrkdwn_link("javascript:alert(1)", "x")
        'x: javascript:alert(1)'
    """
    label = escape_mrkdwn(one_line(label)) or "link"
    url = url.strip()
    if not _SAFE_URL.match(url):
        return f"{label}: {fit(escape_mrkdwn(url), URL_MAX)}"
    if len(url) > URL_MAX:
        return f"{label} (URL longer than {URL_MAX} characters, not linked)"
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{label}>"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _no_fence(text: str) -> str:
    # A ``` inside scraped text would close our code block early; a zero-width space breaks it.
    return re.sub(r"`(?=``)", "`\u200b", text)


def _fact_sections(alert: Alert) -> list[dict[str, Any]]:
    fields: list[dict[str, str]] = []
    used = 0
    facts = list(alert.facts)
    for i, (label, value) in enumerate(facts):
        text = fit(f"*{escape_mrkdwn(one_line(label))}*\n{escape_mrkdwn(one_line(value)) or '—'}", FACT_FIELD_MAX)
        rest = len(facts) - i
        if used + len(text) > FACTS_BUDGET or (len(fields) == 3 * FIELDS_PER_SECTION - 1 and rest > 1):
            fields.append(_mrkdwn(f"*…*\n{rest} more not shown"))
            break
        fields.append(_mrkdwn(text))
        used += len(text)
    return [
        {"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]}
        for i in range(0, len(fields), FIELDS_PER_SECTION)
    ]


def _diff_blocks(alert: Alert, budget: int) -> list[dict[str, Any]]:
    lines = _no_fence(escape_mrkdwn(alert.diff_text or "")).splitlines()
    chunk_max = SECTION_TEXT_MAX - len("```\n\n```")
    blocks: list[dict[str, Any]] = []
    chunk: list[str] = []
    size = 0
    shown = 0
    room = budget

    def flush() -> None:
        nonlocal chunk, size, room
        if chunk:
            text = "```\n" + "\n".join(chunk) + "\n```"
            blocks.append(_section(text))
            room -= len(text)
            chunk, size = [], 0

    for line in lines:
        line = fit(line, chunk_max)
        cost = len(line) + 1
        if size + cost > chunk_max:
            flush()
        if cost + len("```\n\n```") + size > room:
            break
        chunk.append(line)
        size += cost
        shown += 1
    flush()
    if shown < len(lines):
        note = f"…truncated ({len(lines) - shown} more lines), {escape_mrkdwn(_diff_hint(alert))}"
        blocks.append(_context(fit(note, NOTE_MAX)))
    return blocks


def _join_within(items: list[str], sep: str, limit: int) -> str:
    # Whole items only: cutting inside "<url|label>" would leave a dangling "<".
    out: list[str] = []
    for item in items:
        candidate = sep.join(out + [item])
        if len(candidate) > limit:
            return sep.join(out + [f"…{len(items) - len(out)} more"]) if out else fit(item, limit)
        out.append(item)
    return sep.join(out)


def _text_len(blocks: list[dict[str, Any]]) -> int:
    total = 0
    for block in blocks:
        objs = [block.get("text")] + block.get("fields", []) + block.get("elements", [])
        total += sum(len(o["text"]) for o in objs if o)
    return total


def to_block_kit(alert: Alert) -> dict[str, Any]:
    """Slack message body ``{"text": fallback, "blocks": [...]}`` for ``chat.postMessage``.

    The English headline, when the alert has one, is the first section (bold) and ends the
    notification fallback. Every piece of alert text is escaped with :func:`escape_mrkdwn`. Limits kept: header ≤150,
    section text ≤3000, ≤10 fields per section, ≤50 blocks, ≤12,000 text characters in total;
    a long diff is cut with a "…truncated, see `regwatch diff KEY`" note.

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Alert(1, "new", "info", "mofcom", "mofcom:2025:61", "<!channel>", "", "https://x.test/",
        ...           datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> msg = to_block_kit(a)
        >>> msg["text"], msg["blocks"][0]["text"]["text"]
        ('NEW  mofcom  mofcom:2025:61 — &lt;!channel&gt;', 'NEW: &lt;!channel&gt;')
    """
    label = KIND_LABELS[alert.kind]
    title = one_line(_CONTROL.sub("", alert.title)) or "(untitled)"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit(escape_mrkdwn(f"{label}: {title}"), HEADER_MAX)}}
    ]
    meta = [f"*{alert.severity}*", f"`{escape_mrkdwn(alert.source)}`"]
    if alert.doc_key:
        meta.append(f"`{escape_mrkdwn(alert.doc_key)}`")
    meta.append(alert.created_at.strftime("%Y-%m-%d %H:%M UTC"))
    blocks.append(_context(fit(" · ".join(meta), CONTEXT_MAX)))
    english = escape_mrkdwn(one_line(alert.headline or ""))
    if english:
        blocks.append(_section(fit(f"*{english}*", SUMMARY_MAX)))
    summary = escape_mrkdwn(one_line(alert.summary))
    if summary.strip():
        blocks.append(_section(fit(summary, SUMMARY_MAX)))
    blocks += _fact_sections(alert)
    links = ([("Source page", alert.url)] if alert.url else []) + list(alert.links)
    if links:
        blocks.append(_section(_join_within([mrkdwn_link(u, lab) for lab, u in links], " · ", LINKS_BUDGET)))
    if alert.tags:
        tags = " ".join(f"`{escape_mrkdwn(one_line(t))}`" for t in alert.tags)
        blocks.append(_context(fit(f"Tags: {tags}", TAGS_BUDGET)))
    if alert.diff_text and alert.diff_text.strip():
        blocks += _diff_blocks(alert, MESSAGE_BUDGET - _text_len(blocks) - NOTE_MAX)
    assert len(blocks) <= BLOCKS_MAX and _text_len(blocks) <= MESSAGE_BUDGET  # budgets above guarantee this
    fallback = headline(alert) + (f" · {one_line(alert.headline)}" if alert.headline else "")
    return {"text": fit(escape_mrkdwn(fallback), FALLBACK_MAX), "blocks": blocks}
