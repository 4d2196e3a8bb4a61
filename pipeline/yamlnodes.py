"""YAML with line numbers: the parsed data plus the line of every key and list item.

``yaml.safe_load`` forgets where a value came from and keeps the last of two equal keys. Here
the document is composed into nodes first, so a validation error deep in the data can still
name its line, and duplicate keys are reported instead of silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[Any, ...]
"""A location in the data: mapping keys (str) and list indexes (int), e.g. ``("routes", 0, "to")``."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class YamlDoc:
    """Parsed YAML: ``data``, the 1-based ``lines`` of keys and items, and duplicate keys found."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)  # (path, line, line of the first one)

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its closest ancestor that has one (1 for the document).

        Example:
            >>> doc = load_yaml("a:\\n  b: 1\\n  c: [x, y]\\n")
            >>> doc.line_of(("a", "c", 1)), doc.line_of(("a", "missing")), doc.line_of(())
            (3, 1, 1)
        """
        path = tuple(path)
        while path:
            for candidate in (path, tuple(str(p) if not isinstance(p, int) else p for p in path)):
                if candidate in self.lines:
                    return self.lines[candidate]
            path = path[:-1]
        return self.lines.get((), 1)


def load_yaml(text: str) -> YamlDoc:
    """Parse one YAML document safely, recording lines and duplicate keys.

    Raises ``yaml.YAMLError`` (with ``problem_mark``) for invalid syntax.

    Example:
        >>> doc = load_yaml("sinks:\\n  legal: {kind: slack}\\n  legal: {kind: console}\\n")
        >>> doc.data, doc.lines[("sinks", "legal")], doc.duplicates
        ({'sinks': {'legal': {'kind': 'console'}}}, 3, [(('sinks', 'legal'), 3, 2)])
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(None, {(): 1})
        doc = YamlDoc(None, {(): node.start_mark.line + 1})
        _walk(node, (), doc, set())
        doc.data = loader.construct_document(node)
        return doc
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: Path, doc: YamlDoc, active: set[int]) -> None:
    if id(node) in active:  # a recursive alias: nothing more to learn
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            line = key_node.start_mark.line + 1
            if key in seen:
                doc.duplicates.append(((*path, key), line, seen[key]))
            else:
                seen[key] = line
            doc.lines[(*path, key)] = line  # the last one is the value the data holds
            _walk(value_node, (*path, key), doc, active)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.lines.setdefault((*path, i), item.start_mark.line + 1)
            _walk(item, (*path, i), doc, active)
    active.discard(id(node))


def format_path(path: Path) -> str:
    """``("routes", 0, "to", 1)`` → ``routes[0].to[1]``.

    Example:
        >>> format_path(("sinks", "legal", "token")), format_path(("routes", 0, "to", 1)), format_path(())
        ('sinks.legal.token', 'routes[0].to[1]', '')
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = ["Path", "YamlDoc", "format_path", "load_yaml"]
