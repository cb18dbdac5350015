"""Identifiers of the corpus's citation, checked and normalised: DOIs, ORCID iDs, SPDX ids.

A DOI is kept as ``10.NNNN/suffix`` (``https://doi.org/...`` and ``doi:...`` forms are
accepted and reduced to it); an ORCID iD as its 16 characters, its last one checked with
the ISO 7064 mod 11-2 check digit that ORCID uses; a licence as one SPDX identifier from
the SPDX licence list (``license-expression`` holds it), in its official spelling, or a
``LicenseRef-`` of the corpus's own. Each bad value is one :class:`CorpusError` naming it
and the fix.

Examples
--------
>>> normalise_doi("https://doi.org/10.5281/zenodo.1234")
'10.5281/zenodo.1234'
>>> normalise_orcid("https://orcid.org/0000-0002-1825-0097")
'0000-0002-1825-0097'
>>> orcid_check_digit("000000021825009")
'7'
>>> normalise_license("cc-by-4.0")
'CC-BY-4.0'
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from policyspeech.errors import CorpusError

DOI_PATTERN = re.compile(r"10\.\d{4,9}(?:\.\d+)*/[-._;()/:<>\[\]+A-Za-z0-9]+")
"""A DOI: the directory indicator 10, a registrant code, a slash and a suffix. The
suffix's characters are those of Crossref's and DataCite's recommendations (no spaces,
quotes, braces, backslashes, ``%`` or ``#``), so that a DOI needs no escaping in BibTeX,
RIS, YAML or a URL."""
DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                "http://dx.doi.org/", "doi:")
ORCID_PATTERN = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
ORCID_URL = "https://orcid.org/"
LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")


def normalise_doi(value: str) -> str:
    """``value`` as a bare DOI (``10.NNNN/suffix``); raises :class:`CorpusError` if it is none.

    >>> normalise_doi("doi:10.1000/ABC")
    '10.1000/ABC'
    >>> normalise_doi("10.5281 zenodo")
    Traceback (most recent call last):
    ...
    policyspeech.errors.CorpusError: DOI '10.5281 zenodo' is not a DOI; give it as 10.NNNN/suffix (such as 10.5281/zenodo.1234) or https://doi.org/10.NNNN/suffix
    """
    text = value.strip()
    for prefix in DOI_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            if prefix.startswith("http"):
                text = unquote(text)
            break
    if not DOI_PATTERN.fullmatch(text):
        raise CorpusError(f"DOI '{value}' is not a DOI; give it as 10.NNNN/suffix (such as "
                          "10.5281/zenodo.1234) or https://doi.org/10.NNNN/suffix")
    return text


def doi_url(doi: str) -> str:
    """The resolver address of ``doi``.

    >>> doi_url("10.5281/zenodo.1234")
    'https://doi.org/10.5281/zenodo.1234'
    """
    return f"https://doi.org/{doi}"


REGISTRANTS = {"10.5281": "Zenodo", "10.7910": "Harvard Dataverse", "10.17605": "OSF",
               "10.57967": "Hugging Face"}
"""Publishers of data sets known by the DOI prefix they register under."""


def doi_publisher(doi: str | None) -> str | None:
    """The repository that registered ``doi``, when its prefix is one of :data:`REGISTRANTS`
    (a backslash, as escaping for Markdown adds, is ignored).

    >>> doi_publisher("10.5281/zenodo.1234"), doi_publisher("10.1000/x")
    ('Zenodo', None)
    """
    return REGISTRANTS.get(doi.split("/", 1)[0].replace("\\", "")) if doi else None


def orcid_check_digit(base: str) -> str:
    """The ISO 7064 mod 11-2 check character of the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(value: str) -> str:
    """``value`` as an ORCID iD (``0000-0002-1825-0097``): the ``https://orcid.org/`` form
    is accepted; the check digit must match.

    >>> normalise_orcid("0000-0002-1825-0098")
    Traceback (most recent call last):
    ...
    policyspeech.errors.CorpusError: ORCID '0000-0002-1825-0098' has a wrong check digit (a valid iD with these digits ends in 7); copy the iD from the ORCID record
    """
    text = value.strip()
    for prefix in (ORCID_URL, "http://orcid.org/", "orcid.org/"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            break
    text = text.upper()
    if not ORCID_PATTERN.fullmatch(text):
        raise CorpusError(f"ORCID '{value}' is not an ORCID iD; give its 16 characters as "
                          "0000-0002-1825-0097 (or https://orcid.org/0000-0002-1825-0097)")
    digits = text.replace("-", "")
    expected = orcid_check_digit(digits[:15])
    if digits[15] != expected:
        raise CorpusError(f"ORCID '{value}' has a wrong check digit (a valid iD with these "
                          f"digits ends in {expected}); copy the iD from the ORCID record")
    return text


def normalise_license(value: str) -> str:
    """``value`` as one SPDX licence identifier in its official spelling (``cc-by-4.0``
    gives ``CC-BY-4.0``), or a ``LicenseRef-...`` identifier of the corpus's own.

    >>> normalise_license("CC-BY-4")
    Traceback (most recent call last):
    ...
    policyspeech.errors.CorpusError: licence 'CC-BY-4' is not an SPDX licence identifier; give one such as CC-BY-4.0, CC0-1.0 or OGL-UK-3.0 (see https://spdx.org/licenses/), or LicenseRef-NAME for a licence of your own
    """
    text = value.strip()
    if LICENSE_REF.fullmatch(text):
        return text
    fix = ("give one such as CC-BY-4.0, CC0-1.0 or OGL-UK-3.0 (see https://spdx.org/licenses/),"
           " or LicenseRef-NAME for a licence of your own")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+-]*", text):
        raise CorpusError(f"licence '{value}' is not one SPDX licence identifier; {fix}")
    from license_expression import get_spdx_licensing

    info = get_spdx_licensing().validate(text)
    if info.errors or not info.normalized_expression or " " in info.normalized_expression:
        raise CorpusError(f"licence '{value}' is not an SPDX licence identifier; {fix}")
    return str(info.normalized_expression)
