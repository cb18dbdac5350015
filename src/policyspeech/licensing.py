"""Licences and attribution: which records need a credit, and the Hub's licence fields.

Each record keeps the licence of its source as an SPDX identifier. A :class:`Tally`
counts the records of a set of fragments by licence and, for attribution, by source: a
source is a licence, a publisher and the site of the records' ``source_url`` (its scheme
and host), with the longest address that all its records' URLs share (cut after a ``/``;
the whole URL when they are all the same). Tallies add up, so a version's tally is the sum
of its fragments' tallies.

:func:`credits` gives the credit lines that attribution-requiring licences (CC-BY and
every licence but the public-domain dedications in :data:`NO_ATTRIBUTION`) ask for, from a
table or from records: ``policyspeech cite`` can list them after a citation.
:func:`hub_license` gives the card's licence fields by the Hugging Face Hub's rules: the
Hub's id when every record has one licence that the Hub knows, else ``license: other``
with a ``license_name`` and ``license_link: LICENSE.md`` (the generated licence file).

Examples
--------
>>> records = [{"license": "CC-BY-4.0", "publisher": "Parliament",
...             "source_url": "https://example.org/debates/1"},
...            {"license": "CC-BY-4.0", "publisher": "Parliament",
...             "source_url": "https://example.org/debates/2"},
...            {"license": "CC0-1.0", "publisher": "Archive", "source_url": None}]
>>> credits(records)
['Parliament, https://example.org/debates/, CC-BY-4.0: 2 records']
>>> hub_license(tally_of(records).licenses)["license"], hub_id("CC-BY-4.0")
('other', 'cc-by-4.0')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from policyspeech.layout import LICENSE

if TYPE_CHECKING:
    import pyarrow as pa

COLUMNS = ("license", "publisher", "source_url")
"""The fields a tally reads."""
NONE = ""
"""The key of records without a licence (or publisher) in a tally."""

HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0",
    "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0",
    "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0",
    "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0",
    "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl",
    "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "h-research",
    "intel-research", "lppl-1.3c", "ms-pl", "apple-ascl", "apple-amlr", "mpl-2.0", "odc-by",
    "odbl", "openmdw-1.0", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa",
    "unlicense", "zlib", "pddl", "lgpl-lr", "deepfloyd-if-license",
    "fair-noncommercial-research-license", "llama2", "llama3", "llama3.1", "llama3.2",
    "llama3.3", "llama4", "grok2-community", "gemma", "unknown", "other",
})
"""The licence ids the Hugging Face Hub knows (its "Licenses" page); any other licence is
``license: other`` with a name and a link."""
_HUB_SPELLING = {"odc-by-1.0": "odc-by", "odbl-1.0": "odbl", "pddl-1.0": "pddl"}
"""SPDX ids the Hub spells differently (its id names the licence family)."""

NO_ATTRIBUTION = frozenset({"CC0-1.0", "PDDL-1.0", "CC-PDDC", "Unlicense", "0BSD", "MIT-0",
                            "WTFPL"})
"""Public-domain dedications and licences that ask for no credit; every other licence
(Creative Commons BY, the Open Government Licences, ODC-By, ODbL...) does."""
STATEMENTS = {
    "OGL-UK-1.0": "Contains public sector information licensed under the Open Government "
                  "Licence v1.0.",
    "OGL-UK-2.0": "Contains public sector information licensed under the Open Government "
                  "Licence v2.0.",
    "OGL-UK-3.0": "Contains public sector information licensed under the Open Government "
                  "Licence v3.0.",
}
"""The attribution statement a licence prescribes, where it prescribes one."""


def hub_id(spdx: str) -> str | None:
    """The Hub's id of the SPDX licence ``spdx``, or None when the Hub does not know it.

    >>> hub_id("CC0-1.0"), hub_id("ODbL-1.0"), hub_id("GPL-3.0-only"), hub_id("OGL-UK-3.0")
    ('cc0-1.0', 'odbl', 'gpl-3.0', None)
    """
    lowered = spdx.lower().removesuffix("-only")
    lowered = _HUB_SPELLING.get(lowered, lowered)
    return lowered if lowered in HUB_LICENSES and lowered not in ("other", "unknown") else None


def needs_attribution(spdx: str) -> bool:
    """Whether records under ``spdx`` must be credited when reused.

    >>> needs_attribution("CC-BY-4.0"), needs_attribution("CC0-1.0")
    (True, False)
    """
    return bool(spdx) and spdx not in NO_ATTRIBUTION


def spdx_link(spdx: str) -> str | None:
    """The address of the licence's text on the SPDX list (None for a ``LicenseRef-``).

    >>> spdx_link("CC-BY-4.0")
    'https://spdx.org/licenses/CC-BY-4.0.html'
    """
    return None if not spdx or spdx.startswith("LicenseRef-") else \
        f"https://spdx.org/licenses/{spdx}.html"


def hub_license(licenses: Iterable[str]) -> dict[str, str]:
    """The card's ``license`` fields for records of these licences (SPDX ids;
    :data:`NONE` for records without one).

    >>> hub_license({"CC-BY-4.0"})
    {'license': 'cc-by-4.0'}
    >>> hub_license({"OGL-UK-3.0"})
    {'license': 'other', 'license_name': 'ogl-uk-3.0', 'license_link': 'LICENSE.md'}
    >>> hub_license({"CC-BY-4.0", ""})["license_name"]
    'per-record'
    """
    used = sorted(set(licenses))
    if len(used) == 1 and used[0] != NONE and hub_id(used[0]):
        return {"license": str(hub_id(used[0]))}
    name = "per-record"
    if len(used) == 1 and used[0] != NONE:
        name = re.sub(r"[^a-z0-9.]+", "-", used[0].lower()).strip("-") or name
    return {"license": "other", "license_name": name, "license_link": LICENSE}


@dataclass(frozen=True)
class Source:
    """Who published records under a licence, and where: the key of an attribution."""

    license: str
    publisher: str
    site: str
    """The scheme and host of the records' ``source_url`` (empty when they have none)."""


@dataclass
class Credit:
    """How many records a :class:`Source` gave, and the address they all share."""

    records: int
    url: str


@dataclass
class Tally:
    """Records counted by licence and by source (see the module's description)."""

    licenses: dict[str, int] = field(default_factory=dict)
    sources: dict[Source, Credit] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(self.licenses.values())

    def add(self, other: Tally) -> Tally:
        """Add ``other``'s counts to this tally (in place); return it."""
        for spdx, count in other.licenses.items():
            self.licenses[spdx] = self.licenses.get(spdx, 0) + count
        for source, credit in other.sources.items():
            mine = self.sources.get(source)
            self.sources[source] = Credit(credit.records, credit.url) if mine is None else \
                Credit(mine.records + credit.records, shared_address(mine.url, credit.url))
        return self

    def count(self, spdx: str | None, publisher: str | None, url: str | None) -> None:
        """Count one record."""
        spdx = spdx or NONE
        self.licenses[spdx] = self.licenses.get(spdx, 0) + 1
        if spdx == NONE:
            return
        site, address = _site(url)
        source = Source(spdx, publisher or NONE, site)
        mine = self.sources.get(source)
        self.sources[source] = Credit(1, address) if mine is None else \
            Credit(mine.records + 1, shared_address(mine.url, address))

    def to_json(self) -> dict[str, Any]:
        return {"licenses": dict(sorted(self.licenses.items())),
                "sources": sorted([s.license, s.publisher, s.site, c.records, c.url]
                                  for s, c in self.sources.items())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls({str(k): int(v) for k, v in data["licenses"].items()},
                   {Source(str(a), str(b), str(c)): Credit(int(n), str(u))
                    for a, b, c, n, u in data["sources"]})


def shared_address(first: str, second: str) -> str:
    """The address two groups of URLs share: the URL itself when both are the same, else
    their common start up to its last ``/``.

    >>> shared_address("https://a.org/x/1", "https://a.org/x/2")
    'https://a.org/x/'
    >>> shared_address("https://a.org/x", "https://a.org/x")
    'https://a.org/x'
    """
    if first == second:
        return first
    same = next((n for n, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
                min(len(first), len(second)))
    return first[:first.rfind("/", 0, same) + 1]


def _site(url: str | None) -> tuple[str, str]:
    """The site (scheme and host) of ``url``, and the URL with a path (``/`` at least), so
    that the address two URLs of one site share names the site."""
    if not url:
        return NONE, NONE
    parts = urlsplit(url)
    site = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return site, url if parts.path else urlunsplit(parts._replace(path="/"))


def tally_of(records: pa.Table | pa.RecordBatch | Iterable[Mapping[str, Any]]) -> Tally:
    """The tally of a pyarrow table (or record batch) or of records (mappings of fields)."""
    import pyarrow as pa

    tally = Tally()
    if isinstance(records, pa.Table | pa.RecordBatch):
        values = [records.column(name).to_pylist() if name in records.column_names
                  else [None] * records.num_rows for name in COLUMNS]
        for spdx, publisher, url in zip(*values, strict=True):
            tally.count(spdx, publisher, url)
        return tally
    for record in records:
        tally.count(*(record.get(name) for name in COLUMNS))
    return tally


def credit_lines(tally: Tally) -> list[str]:
    """One plain-text line per source whose licence asks for a credit: publisher, address,
    licence and records, the largest first."""
    lines = []
    for source, credit in sorted(tally.sources.items(),
                                 key=lambda item: (-item[1].records, item[0].publisher,
                                                   item[0].license, item[0].site)):
        if not needs_attribution(source.license):
            continue
        publisher = source.publisher or "unnamed publisher"
        where = f", {credit.url}" if credit.url else ""
        lines.append(f"{publisher}{where}, {source.license}: {plural(credit.records, 'record')}")
    return lines


def credits(records: pa.Table | pa.RecordBatch | Iterable[Mapping[str, Any]],
            ) -> list[str]:
    """The credits that the licences of ``records`` (a pyarrow table, or mappings with
    ``license``, ``publisher`` and ``source_url``) ask for: one line per source, e.g.
    ``"Parliament, https://example.org/debates/, CC-BY-4.0: 2 records"``."""
    return credit_lines(tally_of(records))


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one.

    >>> plural(1, "record"), plural(2_000, "record")
    ('1 record', '2,000 records')
    """
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
