"""A small, safe, positioned XML tree for BPMN files.

BPMN import needs random access (flows name their source and target by id),
so unlike the XES reader this builds a tree; but it builds it with the same
defences (see ``procflow.eventlog.xes``): defusedxml's expat parser refuses
a document type declaration wherever it appears, and with it every entity
and external reference; the file may not exceed :data:`MAX_BYTES`, elements
may not nest deeper than :data:`MAX_DEPTH` nor number more than
:data:`MAX_ELEMENTS`. Namespaces are resolved by the parser, so any prefix
(or a default namespace) works: a :class:`Node` knows its namespace URI and
local name. Every node keeps the line and column of its start tag, so that
messages can name ``file:line:col``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import DefusedExpatParser

from procflow.errors import ProcflowError
from procflow.fileio import note_input

MAX_BYTES = 32 << 20
"""The largest BPMN file read (32 MiB): real models are a few hundred KiB."""
MAX_DEPTH = 64
"""Deepest element nesting read; BPMN nests a dozen levels (sub-processes add a few)."""
MAX_ELEMENTS = 500_000
"""Most elements read: a model with more is not one a person drew."""
CHUNK = 1 << 20


class BpmnError(ProcflowError):
    """A BPMN file that cannot be read or imported, at ``file:line:col``."""

    def __init__(self, path: str, message: str, line: int = 1, column: int = 1) -> None:
        self.path = path
        self.line = line
        self.column = column
        super().__init__(f"{path}:{line}:{column}: {message}")


@dataclass
class Node:
    """One element: namespace URI, local name, attributes by (uri, name), children, position."""

    ns: str
    tag: str
    attrs: dict[tuple[str, str], str]
    line: int
    column: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def get(self, name: str, ns: str = "") -> str | None:
        """An attribute: ``get("id")`` for a plain one, ``get("p", PF)`` for a namespaced one."""
        return self.attrs.get((ns, name))

    def find(self, ns: str, tag: str) -> list[Node]:
        """The children with this namespace and local name."""
        return [c for c in self.children if c.ns == ns and c.tag == tag]

    def iter(self) -> list[Node]:
        """This node and every descendant, in document order."""
        out: list[Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


class _Builder(ContentHandler):
    def __init__(self, path: str, parser: DefusedExpatParser) -> None:
        super().__init__()
        self.path = path
        self.parser = parser
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.count = 0

    def here(self) -> tuple[int, int]:
        return self.parser.getLineNumber() or 1, (self.parser.getColumnNumber() or 0) + 1

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        line, column = self.here()
        self.count += 1
        if len(self.stack) >= MAX_DEPTH:
            raise BpmnError(
                self.path,
                f"elements nested more than {MAX_DEPTH} deep: not a BPMN model",
                line,
                column,
            )
        if self.count > MAX_ELEMENTS:
            raise BpmnError(
                self.path,
                f"more than {MAX_ELEMENTS:,} elements: not a model procflow imports",
                line,
                column,
            )
        values = {(uri or "", local): value for (uri, local), value in attrs.items()}
        node = Node(name[0] or "", name[1], values, line, column)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        node = self.stack.pop()
        node.text = node.text.strip()

    def characters(self, content: str) -> None:
        if self.stack and len(self.stack[-1].text) < 65536:
            self.stack[-1].text += content


def parse(path: str | os.PathLike[str]) -> Node:
    """The root element of the XML file at ``path``, or a positioned :class:`BpmnError`."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        handle = open(name, "rb")  # noqa: SIM115 - closed below
        note_input(handle.fileno())
    except OSError as exc:
        raise BpmnError(name, f"cannot be read: {exc.strerror or exc}") from None
    if size > MAX_BYTES:
        handle.close()
        raise BpmnError(name, f"the file is {size:,} bytes, more than the {MAX_BYTES:,} read")
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    builder = _Builder(name, parser)
    parser.setContentHandler(builder)
    try:
        with handle:
            head = handle.read(CHUNK)
            if not head.strip():
                raise BpmnError(name, "empty file: a BPMN model needs a <definitions> element")
            chunk = head
            while chunk:
                parser.feed(chunk)
                chunk = handle.read(CHUNK)
            parser.close()
    except (DTDForbidden, EntitiesForbidden) as exc:
        line, column = builder.here()
        what = "a document type declaration" if isinstance(exc, DTDForbidden) else "an entity"
        raise BpmnError(
            name,
            f"{what} is refused: BPMN never needs one, and entities can read files or "
            "expand without end",
            line,
            column,
        ) from None
    except DefusedXmlException as exc:
        line, column = builder.here()
        raise BpmnError(name, f"refused: {exc}", line, column) from None
    except SAXParseException as exc:
        raise BpmnError(
            name,
            f"not well-formed XML: {exc.getMessage()}",
            exc.getLineNumber() or 1,
            (exc.getColumnNumber() or 0) + 1,
        ) from None
    except OSError as exc:
        raise BpmnError(name, f"cannot be read: {exc.strerror or exc}") from None
    except (LookupError, ValueError) as exc:  # the codec the XML declaration names
        if isinstance(exc, KeyError | IndexError):  # a bug: not ours to word
            raise
        raise BpmnError(
            name,
            f"the XML declaration names an encoding procflow cannot read ({exc}): "
            "save the model as UTF-8",
        ) from None
    if builder.root is None:  # pragma: no cover - expat reports a missing root itself
        raise BpmnError(name, "no root element")
    return builder.root
