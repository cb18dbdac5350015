"""Reading TEI XML as a stream: each element as it closes, then dropped, so that a large
file needs little memory (:mod:`policyspeech.adapters.parlamint`).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.xml"
>>> _ = path.write_text('<TEI xmlns="http://www.tei-c.org/ns/1.0"><u>Hi</u></TEI>')
>>> root_kind(path)
'TEI'
>>> seen = []
>>> parse_streaming(path, lambda elem, parent, line: seen.append(elem.tag[len(TEI):]) or True)
>>> seen
['u', 'TEI']
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from xml.parsers import expat

from policyspeech.errors import InvalidSpeechError
from policyspeech.userfiles import open_regular

TEI = "{http://www.tei-c.org/ns/1.0}"


class Stop(Exception):
    """Raised by a handler to stop reading a file (the rest is not needed)."""


def qname(name: str) -> str:
    return "{" + name if "}" in name else name


def root_kind(path: Path) -> str:
    """The local name of ``path``'s root element, which must be in the TEI namespace."""
    found: list[str] = []

    def start(name: str, _attrs: dict[str, str]) -> None:
        found.append(qname(name))
        raise Stop

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    feed(path, parser)
    if not found or not found[0].startswith(TEI):
        root = found[0] if found else "no element"
        raise InvalidSpeechError(f"{path}: not TEI (root {root}); give ParlaMint TEI files")
    return found[0][len(TEI):]


def parse_streaming(path: Path, on_end: Callable[[ET.Element, ET.Element | None, int], bool]) -> None:
    """Build ``path``'s elements with expat; ``on_end(elem, parent, line)`` sees each one as
    it closes (``line``: its start tag's) and drops it from its parent by returning True."""
    builder = ET.TreeBuilder()
    stack: list[tuple[ET.Element, int]] = []
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def start(name: str, attrs: dict[str, str]) -> None:
        elem = builder.start(qname(name), {qname(k): v for k, v in attrs.items()})
        stack.append((elem, parser.CurrentLineNumber))

    def end(name: str) -> None:
        elem, line = stack.pop()
        builder.end(qname(name))
        parent = stack[-1][0] if stack else None
        if on_end(elem, parent, line) and parent is not None:
            parent.remove(elem)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    feed(path, parser)


def feed(path: Path, parser: expat.XMLParserType) -> None:
    try:
        with open_regular(path) as stream:  # a regular file: a FIFO cannot hang the import
            parser.ParseFile(stream)
    except Stop:
        pass
    except (expat.ExpatError, UnicodeError) as err:
        raise InvalidSpeechError(f"{path}: not well-formed XML ({err}); give ParlaMint TEI "
                                 "files") from None
