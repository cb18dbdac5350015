"""The theme codebook: the 21 major topics of the Comparative Agendas Project (CAP).

The CAP master codebook is the standard topic scheme of comparative policy research.
Its major topic codes run from 1 to 23; there is no 11 and no 22.

Examples
--------
>>> from policyspeech.themes import THEMES, THEME_SLUGS
>>> len(THEMES)
21
>>> THEMES[10].code, THEMES[10].slug, THEMES[10].label
(12, 'law_and_crime', 'Law and Crime')
>>> "immigration" in THEME_SLUGS
True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """One major topic of the codebook."""

    code: int
    slug: str
    label: str
    description: str


THEMES: tuple[Theme, ...] = (
    Theme(1, "macroeconomics", "Macroeconomics",
          "Interest rates, inflation, unemployment, monetary and fiscal policy, budget, taxation"),
    Theme(2, "civil_rights", "Civil Rights",
          "Minority rights, discrimination, gender and LGBT rights, privacy, voting rights, "
          "freedom of speech"),
    Theme(3, "health", "Health",
          "Health care reform, insurance, providers, drugs, public health, disease prevention"),
    Theme(4, "agriculture", "Agriculture",
          "Agricultural trade, subsidies, food inspection and safety, fisheries"),
    Theme(5, "labor", "Labor",
          "Worker safety, employment training, pensions, labour unions, wages, immigrant labour"),
    Theme(6, "education", "Education",
          "Schools, higher education, vocational training, special education, research"),
    Theme(7, "environment", "Environment",
          "Drinking water, waste, air pollution, climate change, recycling, conservation"),
    Theme(8, "energy", "Energy",
          "Nuclear energy, electricity, oil and gas, coal, renewable energy, energy conservation"),
    Theme(9, "immigration", "Immigration",
          "Immigration, refugees, citizenship, border control of people"),
    Theme(10, "transportation", "Transportation",
          "Mass transit, highways, air travel, railways, maritime transport, infrastructure"),
    Theme(12, "law_and_crime", "Law and Crime",
          "Law enforcement agencies, crime, courts, prisons, drugs, police, family issues"),
    Theme(13, "social_welfare", "Social Welfare",
          "Poverty assistance, social services, elderly and disabled assistance, child care"),
    Theme(14, "housing", "Housing",
          "Housing and community development, urban and rural development, homelessness"),
    Theme(15, "domestic_commerce", "Domestic Commerce",
          "Banking, finance, securities, consumer protection, small business, tourism, "
          "copyright"),
    Theme(16, "defense", "Defense",
          "Armed forces, military intelligence, arms control, defence procurement, "
          "terrorism and homeland security"),
    Theme(17, "technology", "Technology",
          "Space, science and technology transfer, telecommunications, computers, "
          "the internet, cyber security"),
    Theme(18, "foreign_trade", "Foreign Trade",
          "Trade agreements, exports, imports, tariffs, exchange rates, foreign investment"),
    Theme(19, "international_affairs", "International Affairs",
          "Foreign aid, international organisations, diplomacy, regional relations, "
          "human rights abroad"),
    Theme(20, "government_operations", "Government Operations",
          "Government agencies, civil service, elections, public finance, the constitution, "
          "government branches"),
    Theme(21, "public_lands", "Public Lands",
          "National parks, public lands, water resources, indigenous affairs, territories"),
    Theme(23, "culture", "Culture",
          "Cultural policy, the arts, heritage, sport, media"),
)

THEME_SLUGS: frozenset[str] = frozenset(theme.slug for theme in THEMES)
THEMES_BY_SLUG: dict[str, Theme] = {theme.slug: theme for theme in THEMES}


def themes_csv() -> str:
    """Return the codebook as CSV text (``code,slug,label,description``).

    >>> themes_csv().splitlines()[1]
    '1,macroeconomics,Macroeconomics,"Interest rates, inflation, unemployment, monetary and fiscal policy, budget, taxation"'
    """
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "slug", "label", "description"])
    for theme in THEMES:
        writer.writerow([theme.code, theme.slug, theme.label, theme.description])
    return buffer.getvalue()
