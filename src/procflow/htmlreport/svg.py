"""Make an SVG document safe and self-contained for inlining into the report.

Graphviz and matplotlib write SVG that is already well behaved, but the
labels in it come from process files, and a report is a page people e-mail
and open in a browser. So every SVG is parsed (with the standard library's
XML parser: no entity expansion beyond the predefined ones) and rebuilt
keeping only what a picture needs:

* no ``<script>``, ``<foreignObject>``, ``<iframe>``, ``<object>``,
  ``<embed>`` or ``<style>`` that could import something;
* no ``on*`` event attributes;
* no link or reference that leaves the page: ``href`` / ``xlink:href``
  only as ``#fragment`` (a ``<a>`` Graphviz writes for a URL becomes a
  plain group), and no ``url(...)`` outside ``#fragment`` in attributes;
* no XML declaration, DOCTYPE or comments (they are meaningless inline).

The result is an ``<svg>`` element as text, with ``role="img"`` and the
accessible name given by the caller.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_DROPPED = frozenset(
    {
        "script",
        "foreignObject",
        "iframe",
        "object",
        "embed",
        "style",
        "image",
        "audio",
        "video",
        "metadata",
    }
)
_HREFS = frozenset({"href", f"{{{XLINK_NS}}}href"})
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _clean(element: ET.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) in _DROPPED:
            element.remove(child)
            continue
        _clean(child)
    for name in list(element.attrib):
        value = element.attrib[name]
        local = _local(name).lower()
        if (
            local.startswith("on")
            or (name in _HREFS and not value.startswith("#"))
            or _EXTERNAL_URL.search(value)
        ):
            del element.attrib[name]
    if _local(element.tag) == "a":  # a link without a target is just a group
        element.tag = f"{{{SVG_NS}}}g"
        for name in [n for n in element.attrib if _local(n) in ("target", "title")]:
            del element.attrib[name]


_LOCAL_REF = re.compile(r"url\(\s*#([^)\s]+)\s*\)")


def prefix_ids(svg: str, prefix: str) -> str:
    """``svg`` (one ``<svg>`` element) with every id and ``#`` reference prefixed.

    Graphviz names its nodes ``node1``, ``node2``... in every diagram and
    matplotlib derives clip-path and hatch ids from their content, so two
    pictures in one page would share ids (invalid HTML, and a reference could
    resolve into the wrong picture). Prefixing with the figure's anchor makes
    them unique in the page.
    """
    root = ET.fromstring(svg)
    ids = {element.get("id") for element in root.iter()} - {None}

    def local(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"url(#{prefix}{name})" if name in ids else match.group(0)

    for element in root.iter():
        for name, value in list(element.attrib.items()):
            if name == "id":
                element.set(name, prefix + value)
            elif name in _HREFS and value[1:] in ids:
                element.set(name, "#" + prefix + value[1:])
            elif "url(" in value:
                element.set(name, _LOCAL_REF.sub(local, value))
    return ET.tostring(root, encoding="unicode")


def drawing_width(svg: str) -> float | None:
    """The width of ``svg`` in its own units (its ``viewBox``), ``None`` without one.

    Graphviz draws in points with 14-point labels: shown one unit to a CSS
    pixel, a diagram's labels are 14 px, legible, however wide it is. Only the
    root's start tag is read (the picture was parsed once, by :func:`sanitize_svg`).
    """
    _event, root = next(ET.iterparse(io.StringIO(svg), events=("start",)))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        width = float(box[2])
    except (IndexError, ValueError):
        return None
    return width if width > 0 and math.isfinite(width) else None


def sanitize_svg(text: str, *, label: str, description: str = "") -> str:
    """``text`` (an SVG document) as one safe ``<svg>`` element named ``label``.

    The first ``<title>`` and ``<desc>`` of the picture are replaced by
    ``label`` and ``description`` (escaped by the serializer), so screen
    readers announce what the picture shows, not "G" or "Figure 1".
    """
    root = ET.fromstring(text)
    if _local(root.tag) != "svg":
        raise ValueError("not an SVG document")
    _clean(root)
    for child in list(root):
        if _local(child.tag) in ("title", "desc"):
            root.remove(child)
    title = ET.Element(f"{{{SVG_NS}}}title")
    title.text = label
    desc = ET.Element(f"{{{SVG_NS}}}desc")
    desc.text = description or label
    root.insert(0, desc)
    root.insert(0, title)
    root.set("role", "img")
    root.set("aria-label", label)
    return ET.tostring(root, encoding="unicode")
