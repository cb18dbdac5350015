"""Deterministic synthetic speeches for benchmarks.

Texts draw words from a Zipf-distributed vocabulary (some words accented, some written in
decomposed form, so normalisation has real work), 500 to 5,000 words, in paragraphs of
30 to 150 words. Metadata draws from pools of speakers, countries, languages and themes.
The same ``seed`` and index always give the same speech.

Example
-------
>>> from benchmarks.synthetic import speeches
>>> first = next(speeches(1, seed=7))
>>> sorted(first)[:3], 500 <= len(first["text"].split()) <= 5000
(['country', 'date', 'delivery'], True)
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

VOCABULARY_SIZE = 30_000
SYLLABLES = ["ka", "lo", "mi", "ne", "ta", "ri", "su", "po", "de", "an", "or", "el", "is",
             "gu", "ve", "ba", "co", "fe", "ju", "zo", "qu", "ha", "wi", "xe", "st", "th"]
ACCENTED = ["é", "è", "ü", "ñ", "ø", "ç", "å", "ł"]
DECOMPOSED = ["e\u0301", "a\u0300", "o\u0308"]
ACCENTED_SHARE = 0.10
DECOMPOSED_SHARE = 0.002
COUNTRIES = ["GB", "DE", "FR", "US", "IE", "ES", "IT", "NL", "SE", "PL", "BR", "IN", "JP", "ZA"]
LANGUAGES = {"GB": "en", "DE": "de", "FR": "fr", "US": "en", "IE": "en", "ES": "es",
             "IT": "it", "NL": "nl", "SE": "sv", "PL": "pl", "BR": "pt", "IN": "en",
             "JP": "ja", "ZA": "en"}
THEMES = ["macroeconomics", "civil_rights", "health", "agriculture", "labor", "education",
          "environment", "energy", "immigration", "transportation", "law_and_crime",
          "social_welfare", "housing", "domestic_commerce", "defense", "technology",
          "foreign_trade", "international_affairs", "government_operations", "public_lands",
          "culture"]
PARTIES = ["Conservative", "Labour", "Liberal", "Green", "Social Democratic", "Christian Democratic"]


def vocabulary(rng: np.random.Generator, size: int = VOCABULARY_SIZE) -> list[str]:
    """``size`` distinct pseudo-words of 1 to 4 syllables, some accented or decomposed."""
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        parts = rng.integers(0, len(SYLLABLES), size=int(rng.integers(1, 5)))
        word = "".join(SYLLABLES[p] for p in parts)
        draw = rng.random()
        if draw < DECOMPOSED_SHARE:
            word += DECOMPOSED[int(rng.integers(0, len(DECOMPOSED)))]
        elif draw < ACCENTED_SHARE:
            word += ACCENTED[int(rng.integers(0, len(ACCENTED)))]
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def speeches(count: int, *, seed: int = 0, start: int = 0) -> Iterator[dict[str, Any]]:
    """Yield ``count`` speeches (numbers ``start`` to ``start + count - 1``) as field mappings."""
    words = np.array(vocabulary(np.random.default_rng(seed)), dtype=object)
    ranks = np.arange(1, len(words) + 1)
    cumulative = np.cumsum(1.0 / ranks**1.1)
    cumulative /= cumulative[-1]
    speakers = [f"Speaker {n:04d}" for n in range(2_000)]
    for number in range(start, start + count):
        rng = np.random.default_rng([seed, number])
        length = int(rng.integers(500, 5_001))
        tokens = words[np.searchsorted(cumulative, rng.random(length))]
        cuts = np.cumsum(rng.integers(30, 151, size=length // 30 + 1))
        cuts = cuts[cuts < length]
        paragraphs = [" ".join(chunk).capitalize() + "." for chunk in np.split(tokens, cuts)]
        country = COUNTRIES[int(rng.integers(0, len(COUNTRIES)))]
        day = datetime.date(1990, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 12_000)))
        chosen = rng.choice(len(THEMES), size=int(rng.integers(0, 4)), replace=False)
        yield {
            "title": f"Speech {number} on {tokens[0]} and {tokens[1]}",
            "speaker": speakers[int(rng.integers(0, len(speakers)))],
            "party": PARTIES[int(rng.integers(0, len(PARTIES)))],
            "country": country,
            "date": day.isoformat(),
            "language": LANGUAGES[country],
            "delivery": "as_delivered",
            "themes": [THEMES[t] for t in chosen],
            "keywords": [str(tokens[2]), str(tokens[3])],
            "license": "CC-BY-4.0",
            "text": f"Number {number}.\n\n" + "\n\n".join(paragraphs),
        }


def _jsonl_lines(job: tuple[int, int, int]) -> bytes:
    count, seed, start = job
    return b"".join(json.dumps(s, ensure_ascii=False).encode() + b"\n"
                    for s in speeches(count, seed=seed, start=start))


def write_jsonl(path: Path, count: int, *, seed: int = 0, start: int = 0,
                processes: int | None = None) -> Path:
    """Write speeches ``start`` to ``start + count - 1`` as JSON lines to ``path`` (in
    parallel, in blocks of 1,000; the file is the same whatever the number of processes).

    >>> import tempfile
    >>> path = write_jsonl(Path(tempfile.mkdtemp()) / "s.jsonl", 3, seed=7, processes=1)
    >>> len(path.read_text(encoding="utf-8").splitlines())
    3
    """
    import multiprocessing

    jobs = [(min(1_000, start + count - first), seed, first)
            for first in range(start, start + count, 1_000)]
    temp = path.with_name(path.name + ".part")
    with open(temp, "wb") as handle:
        if processes == 1 or len(jobs) == 1:
            for job in jobs:
                handle.write(_jsonl_lines(job))
        else:
            with multiprocessing.get_context("spawn").Pool(processes) as pool:
                for block in pool.imap(_jsonl_lines, jobs):
                    handle.write(block)
    temp.replace(path)
    return path
