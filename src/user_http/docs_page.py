"""A readable, self-contained HTML page of an OpenAPI document: no script, no external asset.

Rendered once at start-up from the same document as ``/openapi.json``, so the two cannot differ.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

_Json = Mapping[str, Any]
_CODE = re.compile(r"`([^`]+)`")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_CONSTRAINTS = (
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "default",
    "enum",
    "const",
    "format",
)
_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
section.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;
 font-weight:600;font-size:.85em;padding:.1em .4em;margin-right:.5em;background:#555}
.get{background:#2b7bb9}.post{background:#2e8b57}.put{background:#c77c02}
.patch{background:#8a5fbf}.delete{background:#c0392b}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid #eee;text-align:left;vertical-align:top;padding:.3rem .5rem}
th{background:#fafafa}nav li{list-style:none}
"""


def render_docs_page(document: _Json) -> str:
    """The page: every operation, grouped by tag, then every schema."""
    info = document["info"]
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>{_e(info['title'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(info['title'])} <small>{_e(info['version'])}</small></h1>",
        _description(info.get("description", "")),
        '<p><a href="openapi.json">OpenAPI document</a></p><nav><h2>Operations</h2><ul>',
    ]
    out += [
        f'<li><a href="#{_e(op["operationId"])}"><span class="method {method}">'
        f"{method.upper()}</span><code>{_e(path)}</code></a> {_text(op.get('summary', ''))}</li>"
        for path, method, op in operations
    ]
    out.append("</ul></nav>")
    for tag in [tag["name"] for tag in document.get("tags", [])]:
        out.append(f"<h2>{_e(tag)}</h2>")
        for path, method, op in operations:
            if tag in op.get("tags", []):
                out.append(_operation(document, path, method, op))
    out.append("<h2>Schemas</h2>")
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        out.append(_schema_section(name, schema))
    out.append("</body></html>")
    return "\n".join(out)


def _operation(document: _Json, path: str, method: str, op: _Json) -> str:
    out = [
        f'<section class=op id="{_e(op["operationId"])}"><h3><span class="method {method}">'
        f"{method.upper()}</span><code>{_e(path)}</code> {_text(op.get('summary', ''))}</h3>",
        f"<p>{_text(op.get('description', ''))}</p>",
    ]
    parameters = [_resolve(document, parameter) for parameter in op.get("parameters", [])]
    if parameters:
        out.append("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th>")
        out.append("<th>description</th></tr>")
        out += [
            f"<tr><td><code>{_e(p['name'])}</code>{' (required)' if p.get('required') else ''}"
            f"</td><td>{_e(p['in'])}</td><td>{_type(p['schema'])}</td>"
            f"<td>{_text(p.get('description', ''))}</td></tr>"
            for p in parameters
        ]
        out.append("</table>")
    body = op.get("requestBody")
    if body is not None:
        out.append("<h4>Request body</h4><ul>")
        out += [
            f"<li><code>{_e(media_type)}</code>: {_type(content['schema'])}</li>"
            for media_type, content in body["content"].items()
        ]
        out.append("</ul>")
    out.append("<h4>Responses</h4><table><tr><th>status</th><th>description</th>")
    out.append("<th>headers</th><th>body</th><th>links</th></tr>")
    for status, reference in op["responses"].items():
        response = _resolve(document, reference)
        headers = ", ".join(f"<code>{_e(name)}</code>" for name in response.get("headers", {}))
        bodies = "<br>".join(
            f"<code>{_e(media_type)}</code> {_type(content['schema'])}"
            for media_type, content in response.get("content", {}).items()
        )
        out.append(
            f"<tr><td>{_e(status)}</td><td>{_text(response['description'])}</td>"
            f"<td>{headers}</td><td>{bodies}</td><td>{_links(response.get('links', {}))}</td></tr>"
        )
    out.append("</table></section>")
    return "\n".join(out)


def _schema_section(name: str, schema: _Json) -> str:
    out = [f'<section id="schema-{_e(name)}"><h3>{_e(name)}</h3>']
    out.append(f"<p>{_text(schema.get('description', ''))}</p>")
    required = set(schema.get("required", []))
    properties = schema.get("properties", {})
    if properties:
        out.append("<table><tr><th>field</th><th>type</th><th>description</th></tr>")
        out += [
            f"<tr><td><code>{_e(field)}</code>{' (required)' if field in required else ''}</td>"
            f"<td>{_type(value)}</td><td>{_text(value.get('description', ''))}</td></tr>"
            for field, value in properties.items()
        ]
        out.append("</table>")
    if schema.get("additionalProperties") is False:
        out.append("<p>No other field is accepted.</p>")
    out.append("</section>")
    return "\n".join(out)


def _type(schema: _Json) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    for combinator, joiner in (("anyOf", " or "), ("oneOf", " or "), ("allOf", " and ")):
        if combinator in schema:
            return joiner.join(_type(option) for option in schema[combinator])
    kind = schema.get("type", "any")
    text = f"array of {_type(schema.get('items', {}))}" if kind == "array" else _e(str(kind))
    constraints = [f"{key}: {_e(repr(schema[key]))}" for key in _CONSTRAINTS if key in schema]
    return f"{text} <small>({', '.join(constraints)})</small>" if constraints else text


def _links(links: _Json) -> str:
    return "<br>".join(
        f'<a href="#{_e(link["operationId"])}">{_e(name)}</a>' for name, link in links.items()
    )


def _resolve(document: _Json, value: _Json) -> _Json:
    reference = value.get("$ref")
    if reference is None:
        return value
    found: Any = document
    for part in reference.removeprefix("#/").split("/"):
        found = found[part]
    resolved: _Json = found
    return resolved


def _description(text: str) -> str:
    out: list[str] = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{_text(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            out.append(f"<p>{_text(' '.join(lines))}</p>")
    return "\n".join(out)


def _text(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def _e(text: str) -> str:
    return html.escape(text)
