"""The data and sources page without Dash callbacks: URL state, search, what the build says
about each indicator, the aggregation notes in plain words, and the component builders.

Pure functions of the store (plus two build tables the store does not hold, the crosswalk rows
and the observations, read here once per build and cached), so they are tested without a server
(tests/test_data_page.py). pages/data_sources.py lays out the page and wires the callbacks.

The search text is only ever used as a filter and as an input's value: never put into markup
or a link. Links are plain <a>; external ones only to http(s) URLs, with rel="noopener".
"""

from __future__ import annotations

import math
import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

import dash_mantine_components as dmc
import pandas as pd
from dash import html

from geo.crosswalk import MIN_SHARE, NEST_SHARE
from geo.names import DISTRICT_NAMES, HAGERSTEN_LILJEHOLMEN_STADSDELAR, MERGES, SDO_DIVISIONS
from indicators.aggregate import MIN_COVERAGE, MIN_WEIGHT_SHARE
from indicators.build import MAP_DIVISIONS
from indicators.catalog import AREAS, Indicator
from indicators.inequality import REL_CHANGE
from indicators.store import Store
from pages import ids
from pages.i18n import DIVISION_LABELS, LANGS, add_strings, fmt_number, t
from pages.state import params_from_search

TABS = ("indicators", "sources", "methods")
MAX_QUERY = 100  # characters of search text kept from a URL
NO_DISTRICTS = "none"  # division filter: indicators without values per area
SPLIT_DIVISIONS = ("regso", "basomrade", "valdistrikt_2010", "valdistrikt_2022", "stadsdel",
                   "school")
PUBLISHED_NAMES = {
    # sdo18 (1999-2006) codes are ASCII slugs of these names (indicators/loaders/transcribed.py)
    "kista": "Kista", "rinkeby": "Rinkeby", "spanga_tensta": "Spånga-Tensta",
    "hasselby_vallingby": "Hässelby-Vällingby", "bromma": "Bromma",
    "kungsholmen": "Kungsholmen", "norrmalm": "Norrmalm", "ostermalm": "Östermalm",
    "maria_gamla_stan": "Maria-Gamla stan", "katarina_sofia": "Katarina-Sofia",
    "enskede_arsta": "Enskede-Årsta", "vantor": "Vantör", "skarpnack": "Skarpnäck",
    "farsta": "Farsta", "alvsjo": "Älvsjö", "hagersten": "Hägersten",
    "liljeholmen": "Liljeholmen", "skarholmen": "Skärholmen", "stockholm": "Stockholm",
}
URL_RE = re.compile(r"https?://[^\s<>\"']+")

# --- labels -----------------------------------------------------------------------------------

# Division names: the ones every page shows come from i18n; the data page adds the rest.
DIVISION_NAMES: dict[str, dict[str, str]] = {
    **DIVISION_LABELS,
    "sdo18": {"sv": "18 stadsdelsområden (1999–2006)", "en": "18 districts (1999–2006)"},
    "valdistrikt": {"sv": "valdistrikt", "en": "election districts"},
    "valdistrikt_2010": {"sv": "valdistrikt (2010 års gränser)",
                         "en": "election districts (2010 boundaries)"},
    "valdistrikt_2022": {"sv": "valdistrikt (2022 års gränser)",
                         "en": "election districts (2022 boundaries)"},
    "school": {"sv": "skolor (punkter)", "en": "schools (points)"},
    "city": {"sv": "hela staden", "en": "whole city"},
}
# Plural names of source units, for sentences ("4 av 127 RegSO").
UNIT_NAMES: dict[str, dict[str, str]] = {
    "regso": {"sv": "RegSO", "en": "RegSO areas"},
    "basomrade": {"sv": "basområden", "en": "basområden"},
    "valdistrikt_2010": {"sv": "valdistrikt (2010)", "en": "election districts (2010)"},
    "valdistrikt_2022": {"sv": "valdistrikt (2022)", "en": "election districts (2022)"},
    "stadsdel": {"sv": "stadsdelar", "en": "stadsdelar"},
    "school": {"sv": "skolor", "en": "schools"},
    "sdo14": {"sv": "stadsdelsområden (14)", "en": "districts (14)"},
    "sdo13": {"sv": "stadsdelsområden (13)", "en": "districts (13)"},
}
SEX_NAMES = {"total": ("Totalt", "Total"), "female": ("Kvinnor", "Women"),
             "male": ("Män", "Men")}
DIRECTION_NAMES = {
    "higher_is_better": ("Högre värde är bättre", "A higher value is better"),
    "lower_is_better": ("Lägre värde är bättre", "A lower value is better"),
    "neutral": ("Neutral: varken högt eller lågt är i sig bättre",
                "Neutral: neither high nor low is better in itself"),
}
ELECTION_NAMES = {"kommun": ("kommunfullmäktigevalet", "municipal election"),
                  "riksdag": ("riksdagsvalet", "Riksdag election"),
                  "region": ("region-/landstingsvalet", "regional election")}


def _w(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def division_name(division: str, lang: str) -> str:
    return DIVISION_NAMES.get(division, {}).get(lang, division)


def unit_name(division: str, lang: str) -> str:
    return UNIT_NAMES.get(division, DIVISION_NAMES.get(division, {})).get(lang, division)


add_strings({
    "data_title": {"sv": "Data och källor", "en": "Data and sources"},
    "data_intro": {
        "sv": "Här beskrivs varje indikator: vad den mäter, varifrån den kommer, hur värdena "
              "förts från källans områden till stadsdelsområdena och hur fullständiga de är. "
              "Alla siffror nedan kommer från samma byggda data som kartor och diagram.",
        "en": "Every indicator is described here: what it measures, where it comes from, how "
              "its values were carried from the source's areas to the districts and how "
              "complete they are. Every figure below comes from the same built data as the maps "
              "and charts.",
    },
    "data_tab_indicators": {"sv": "Indikatorer", "en": "Indicators"},
    "data_tab_sources": {"sv": "Källor", "en": "Sources"},
    "data_tab_methods": {"sv": "Metod", "en": "Methods"},
    "data_search": {"sv": "Sök i titlar och definitioner", "en": "Search titles and definitions"},
    "data_search_ph": {"sv": "t.ex. valdeltagande, inkomst", "en": "e.g. turnout, income"},
    "data_all_areas": {"sv": "Alla områden", "en": "All areas"},
    "data_all_divisions": {"sv": "Alla indelningar", "en": "All divisions"},
    "data_has_division": {"sv": "Har värden för", "en": "Has values for"},
    "data_no_districts": {"sv": "Inga värden per område", "en": "No values per area"},
    "data_only_mappable": {"sv": "Bara de som kan visas på kartan",
                           "en": "Only those that can be mapped"},
    "data_count": {"sv": "{n} av {total} indikatorer", "en": "{n} of {total} indicators"},
    "data_none_found": {"sv": "Inga indikatorer matchar sökningen och filtren.",
                        "en": "No indicator matches the search and filters."},
    "data_overview": {"sv": "Katalogen i korthet", "en": "The catalog at a glance"},
    "data_overview_text": {
        "sv": "{n} indikatorer från {sources} registrerade källor. {mappable} kan visas på "
              "kartan; övriga är för glesa och finns i tabeller och profiler. {approx} är "
              "approximationer (viktade medelvärden utan egen nämnare) och {uncertain} har en "
              "anmärkning om källans tillförlitlighet.",
        "en": "{n} indicators from {sources} registered sources. {mappable} can be mapped; the "
              "rest are too sparse and appear in tables and profiles. {approx} are "
              "approximations (weighted means without their own denominator) and {uncertain} "
              "carry a note on the source's reliability.",
    },
    "data_published_col": {"sv": "Publicerade stadsdelsvärden",
                           "en": "Published district values"},
    "data_pick": {"sv": "Välj en indikator i listan för att se hur den tagits fram.",
                  "en": "Pick an indicator in the list to see how it was made."},
    "data_badge_map": {"sv": "På kartan", "en": "On the map"},
    "data_badge_nomap": {"sv": "Inte på kartan", "en": "Not on the map"},
    "data_badge_approx": {"sv": "Approximation", "en": "Approximation"},
    "data_badge_secondary": {"sv": "Osäker källa", "en": "Uncertain source"},
    "data_badge_nodata": {"sv": "Inga byggda värden", "en": "No built values"},
    "data_unit": {"sv": "Enhet", "en": "Unit"},
    "data_direction": {"sv": "Riktning", "en": "Direction"},
    "data_source_division": {"sv": "Källans indelning", "en": "Source division"},
    "data_sexes": {"sv": "Redovisas för", "en": "Reported for"},
    "data_id": {"sv": "Id", "en": "Id"},
    "data_definition": {"sv": "Definition", "en": "Definition"},
    "data_processing": {"sv": "Så har värdet tagits fram", "en": "How the value was made"},
    "data_aggregation": {"sv": "Från källans områden till stadsdelsområden",
                         "en": "From the source's areas to the districts"},
    "data_nest_rule": {
        "sv": "Ett källområde som till minst {pct} ligger i ett stadsdelsområde förs dit i sin "
              "helhet; bara områden som verkligen delas fördelas.",
        "en": "A source area lying at least {pct} in one district goes there whole; only "
              "areas that are really split are divided.",
    },
    "data_years": {"sv": "År och indelningar", "en": "Years and divisions"},
    "data_years_col": {"sv": "År med värden", "en": "Years with values"},
    "data_map_years_col": {"sv": "År på kartan", "en": "Years on the map"},
    "data_min_cov_col": {"sv": "Lägsta täckning", "en": "Lowest coverage"},
    "data_below_col": {"sv": "Områden under {pct} täckning",
                       "en": "Areas below {pct} coverage"},
    "data_with_value_col": {"sv": "Områden med värde", "en": "Areas with a value"},
    "data_on_map_col": {"sv": "På kartan", "en": "On the map"},
    "data_yes": {"sv": "ja", "en": "yes"},
    "data_no": {"sv": "nej", "en": "no"},
    "data_coverage_by_year": {"sv": "Täckning per år: {division}",
                              "en": "Coverage by year: {division}"},
    "data_no_values": {
        "sv": "Det byggda datat har inga värden för den här indikatorn. Källans värden "
              "(nedan) finns bara för enstaka områden eller för hela staden.",
        "en": "The built data has no values for this indicator. The source's values (below) "
              "cover only single areas or the whole city.",
    },
    "data_city_only": {"sv": "Bara värden för hela staden: {years}.",
                       "en": "Values for the whole city only: {years}."},
    "data_not_mappable": {
        "sv": "Serien är för gles för att visas på kartan; den finns i tabeller och profiler.",
        "en": "The series is too sparse to be mapped; it is shown in tables and profiles.",
    },
    "data_reconciliation": {"sv": "Avstämning mot stadens officiella folkmängd",
                            "en": "Reconciliation with the city's official population"},
    "data_recon_intro": {
        "sv": "Folkmängden summerad från källans områden jämförs med den officiella siffran "
              "för hela staden. En summa under den officiella betyder att områden saknar värden "
              "det året.",
        "en": "The population summed from the source's areas is compared with the official "
              "figure for the whole city. A sum below the official one means that areas lack "
              "values that year.",
    },
    "data_recon_summed": {"sv": "Summerat", "en": "Summed"},
    "data_recon_official": {"sv": "Officiellt", "en": "Official"},
    "data_recon_diff": {"sv": "Skillnad", "en": "Difference"},
    "data_recon_none": {"sv": "ingen officiell stadssiffra i källorna för dessa år: {years}",
                        "en": "no official city figure in the sources for these years: {years}"},
    "data_verdicts": {"sv": "Hur skillnaderna utvecklats", "en": "How the gap developed"},
    "data_verdict_line": {"sv": "{division}, {span}: {verdict} (variationskoefficient {a} → {b})",
                          "en": "{division}, {span}: {verdict} (coefficient of variation "
                                "{a} → {b})"},
    "data_sources_of": {"sv": "Källor", "en": "Sources"},
    "data_publisher": {"sv": "Utgivare", "en": "Publisher"},
    "data_licence": {"sv": "Licens", "en": "Licence"},
    "data_files": {"sv": "Filer", "en": "Files"},
    "data_homepage": {"sv": "Källans webbplats", "en": "Source website"},
    "data_no_homepage": {"sv": "ingen webbplats: källan anges vid varje värde",
                         "en": "no website: each value cites its source"},
    "data_used_by": {"sv": "Används av {n} indikatorer", "en": "Used by {n} indicators"},
    "data_used_by_none": {
        "sv": "Inga indikatorvärden: används för gränser, kopplingar eller kontroller",
        "en": "No indicator values: used for boundaries, crosswalks or checks",
    },
    "data_note": {"sv": "Anmärkning", "en": "Note"},
    "data_published_values": {"sv": "Publicerade värden och var de står",
                              "en": "Published values and where they appear"},
    "data_pub_area": {"sv": "Område", "en": "Area"},
    "data_pub_division": {"sv": "Indelning", "en": "Division"},
    "data_pub_sex": {"sv": "Kön", "en": "Sex"},
    "data_pub_cite": {"sv": "Källa", "en": "Source"},
    "data_value": {"sv": "Värde", "en": "Value"},
    "data_pub_more": {"sv": "… och {n} värden till.", "en": "… and {n} more values."},
    "data_reliability": {"sv": "Om tillförlitligheten", "en": "On reliability"},
    "data_link_here": {"sv": "Länk till den här indikatorn", "en": "Link to this indicator"},
    "data_link_map": {"sv": "Visa på kartan", "en": "Show on the map"},
    "data_link_web": {"sv": "webbsida", "en": "web page"},
    "data_version": {"sv": "Dataversion", "en": "Data version"},
    "data_built_at": {"sv": "byggd", "en": "built"},
    "data_version_text": {
        "sv": "Dataversion {version}, byggd {built} från {n} registrerade källor "
              "(källversion {sources}). Dataversionen är ett fingeravtryck av de byggda "
              "värdena, källversionen av alla källfilers sha256: samma version betyder samma "
              "siffror respektive samma källfiler.",
        "en": "Data version {version}, built {built} from {n} registered sources (source "
              "version {sources}). The data version is a fingerprint of the built values, the "
              "source version of every source file's sha256: the same version means the same "
              "numbers, or the same source files.",
    },
    "data_sources_intro": {
        "sv": "Alla källor som bygget läser. Varje fil kontrolleras mot sin sha256 innan den "
              "används. Källornas titlar och anmärkningar återges som de står i registret.",
        "en": "Every source the build reads. Each file is checked against its sha256 before it "
              "is used. Titles and notes are given as they stand in the registry.",
    },
})

def _pct_const(share: float, lang: str) -> str:
    return fmt_pct(100 * share, lang, decimals=0 if (100 * share) % 1 == 0 else 1)


def methods_sections(lang: str) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) of the methods section in `lang`."""
    en = lang == "en"
    nest = _pct_const(NEST_SHARE, lang)
    cov = _pct_const(MIN_COVERAGE, lang)
    sliver = fmt_pct(100 * MIN_SHARE, lang, decimals=1)
    rel = _pct_const(REL_CHANGE, lang)
    wshare = _pct_const(MIN_WEIGHT_SHARE, lang)
    hl = ", ".join(HAGERSTEN_LILJEHOLMEN_STADSDELAR)
    if en:
        return [
            ("District divisions", [
                "Stockholm has been divided into stadsdelsområden (districts) in three ways "
                "since 2007: 14 districts until 30 June 2020; 13 from 1 July 2020, when "
                "Hägersten-Liljeholmen and Älvsjö became Hägersten-Älvsjö; and 11 from 1 July "
                "2023, when Rinkeby-Kista and Spånga-Tensta became Järva and Norrmalm and "
                "Östermalm became Norra innerstaden. Values built from small areas are given "
                "on all three divisions whatever the year, so a series can be followed on "
                "today's districts; published district values exist on the division they were "
                "published for and on the later ones they can be carried to.",
                "Only the 2020 map (13 districts) is published as a file. The 14-district map "
                f"is derived from it: Hägersten-Älvsjö is split along the stadsdelar that "
                f"formed Hägersten-Liljeholmen ({hl}); the rest is Älvsjö. The 11-district map "
                "merges the 13 districts. A district keeps its code as long as its territory "
                "is unchanged.",
            ]),
            ("From small areas to districts (crosswalk)", [
                "Most statistics are published for smaller areas (RegSO, basområden, election "
                "districts) whose borders do not always follow the districts. Each source "
                "area is overlaid on the districts, drawn as their whole stadsdelar (the "
                "drawn district map would move about 5,000 people across the Järvafältet "
                "border). Pieces smaller than "
                f"{sliver} of an area are digitising slivers and are ignored.",
                f"An area with at least {nest} of its land or of its estimated population in "
                "one district belongs wholly to that district (the 99 % rule). An area that is "
                "really split is divided by its estimated population in each part, estimated "
                "from the 2014 population of the basområden under it, assuming people live "
                "evenly on the land (water is masked out). Basområden themselves, the finest "
                "population grain available, are divided by area.",
                "Counts are added up before any rate is taken, so a district's rate is the "
                "pooled rate of its areas, never an average of rates. Each data page entry "
                "says how many areas were split and how much of the population that moves.",
                "Published district values (transcribed from official reports) are used as "
                "published on their own division. They are carried to a later division as a "
                "population-weighted mean (or a sum, for counts) only when every part of the "
                "merged district has a value.",
            ]),
            ("Coverage: when a value is complete enough", [
                "A district's coverage in a year is the share of its reference population (its "
                "areas' population in the source's latest year) that lives in areas with a "
                f"value that year. A district value needs at least {cov} coverage to be shown "
                "on a map; below that it stays in tables, marked with its coverage, because a "
                "sum over part of a district is not the district.",
                "A year is mapped, and takes part in the inequality measures, only when at "
                "least two thirds of the division's districts have a value that passes the "
                "coverage rule: a map of three coloured districts among eleven grey ones says "
                "nothing about the city.",
                "City totals are reconciled too: the population summed from small areas is "
                "compared with the official city population each year an official figure "
                "exists, and the difference is shown with the indicator.",
            ]),
            ("Inequality measures and the trend verdict", [
                "For the district values x with weights w (the indicator's own denominator "
                "where it has one, such as eligible voters for turnout, otherwise the "
                "district's population): the range (max − min), the ratio max/min (positive "
                "values only), the weighted coefficient of variation (weighted standard "
                "deviation divided by the weighted mean) and the Theil index. The measures "
                "have no direction; 'worse' is the indicator's direction.",
                "The verdict compares the weighted coefficient of variation of the first and "
                "last mapped years. The gap 'widened' when it grew by more than "
                f"{rel} of its first value and at least half of the year-to-year steps went "
                "the same way; 'narrowed' likewise; otherwise 'no clear change'. With fewer "
                "than two years: 'too few years'.",
            ]),
            ("What 'approximation' means", [
                "Some sources give a mean or a rate per area but not its own denominator (for "
                "example mean income per basområde without the number of income earners). "
                "The district value is then a weighted mean of the areas' values with the "
                "population as weight. That is close to, but not exactly, the value the "
                "source would publish for the district, and the indicator is marked "
                "'approximation'.",
                "School results describe the schools located in a district, not the pupils "
                "who live there. They are weighted by pupils (pupils with final grades, else "
                "year-9 pupils enrolled); in a year where fewer than "
                f"{wshare} of the schools with results have a pupil count, every school "
                "counts equally.",
            ]),
            ("Missing values", [
                "Suppressed ('..'), missing ('.') and rounded ('~100') values from the sources "
                "are never read as zero. A district without a value is grey on maps and "
                "'no data' in tables. Election votes that Valmyndigheten does not assign to "
                "an election district (early votes, collection districts) count only in the "
                "city total, so district turnout is slightly below the official city "
                "figure.",
            ]),
        ]
    return [
        ("Stadsdelsindelningar", [
            "Stockholm har sedan 2007 haft tre indelningar i stadsdelsområden: 14 till och "
            "med 30 juni 2020; 13 från 1 juli 2020, då Hägersten-Liljeholmen och Älvsjö blev "
            "Hägersten-Älvsjö; och 11 från 1 juli 2023, då Rinkeby-Kista och Spånga-Tensta "
            "blev Järva och Norrmalm och Östermalm blev Norra innerstaden. Värden som byggs från "
            "små områden ges på alla tre indelningarna oavsett år, så att en serie kan följas på "
            "dagens stadsdelsområden; publicerade stadsdelsvärden finns på den indelning de "
            "publicerades för och på de senare som de kan föras till.",
            "Bara 2020 års karta (13 stadsdelsområden) finns som fil. Kartan med 14 "
            "stadsdelsområden härleds ur den: Hägersten-Älvsjö delas längs de stadsdelar som "
            f"utgjorde Hägersten-Liljeholmen ({hl}); resten är Älvsjö. Kartan med 11 "
            "slår samman de 13. Ett stadsdelsområde behåller sin kod så länge dess område är "
            "oförändrat.",
        ]),
        ("Från små områden till stadsdelsområden", [
            "Det mesta av statistiken redovisas för mindre områden (RegSO, basområden, "
            "valdistrikt) vars gränser inte alltid följer stadsdelsområdena. Varje källområde "
            "läggs över stadsdelsområdena, ritade som sina hela stadsdelar (den ritade "
            "stadsdelskartan skulle flytta omkring 5 000 personer över gränsen på "
            f"Järvafältet). Bitar mindre än {sliver} av ett område är digitaliseringsrester "
            "och räknas inte.",
            f"Ett område som har minst {nest} av sin yta eller av sin uppskattade befolkning i "
            "ett stadsdelsområde hör helt till det (99-procentsregeln). Ett område som "
            "verkligen delas fördelas efter sin uppskattade befolkning i varje del, uppskattad "
            "från basområdenas befolkning 2014 under antagandet att människor bor jämnt "
            "fördelade på land (vatten räknas bort). Basområdena själva, den finaste "
            "befolkningsnivån som finns, fördelas efter yta.",
            "Antal summeras innan en andel räknas ut, så ett stadsdelsområdes andel är den "
            "sammanvägda andelen för dess områden, aldrig ett medelvärde av andelar. För varje "
            "indikator anges hur många områden som delas och hur stor del av befolkningen det "
            "flyttar.",
            "Publicerade stadsdelsvärden (avskrivna ur officiella rapporter) används som de är "
            "på sin egen indelning. Till en senare indelning förs de som ett "
            "befolkningsviktat medelvärde (eller en summa, för antal) bara när alla delar av "
            "det sammanslagna området har ett värde.",
        ]),
        ("Täckning: när ett värde är fullständigt nog", [
            "Ett stadsdelsområdes täckning ett år är den andel av dess referensbefolkning "
            "(områdenas befolkning källans senaste år) som bor i områden med värde det året. "
            f"Ett värde behöver minst {cov} täckning för att visas på kartan; annars finns det "
            "kvar i tabellerna, märkt med sin täckning, eftersom en summa över en del av ett "
            "stadsdelsområde inte är stadsdelsområdet.",
            "Ett år visas på kartan, och ingår i måtten på skillnader, bara när minst två "
            "tredjedelar av indelningens stadsdelsområden har ett värde som klarar "
            "täckningsregeln: en karta med tre färgade områden bland elva grå säger inget om "
            "staden.",
            "Även stadens totaler stäms av: folkmängden summerad från små områden jämförs med "
            "stadens officiella folkmängd de år det finns en officiell siffra, och skillnaden "
            "visas vid indikatorn.",
        ]),
        ("Mått på skillnader och bedömningen av utvecklingen", [
            "För stadsdelsområdenas värden x med vikter w (indikatorns egen nämnare där den "
            "har en, till exempel röstberättigade för valdeltagande, annars befolkningen): "
            "variationsbredden (högsta − lägsta), kvoten högsta/lägsta (bara positiva värden), "
            "den viktade variationskoefficienten (viktad standardavvikelse delad med viktat "
            "medelvärde) och Theils index. Måtten har ingen riktning; vad som är 'sämre' "
            "avgör indikatorns riktning.",
            "Bedömningen jämför den viktade variationskoefficienten för första och sista året "
            "på kartan. Skillnaderna har 'ökat' när den vuxit med mer än "
            f"{rel} av sitt första värde och minst hälften av stegen mellan åren gått åt "
            "samma håll; 'minskat' på motsvarande sätt; annars 'ingen tydlig förändring'. "
            "Med färre än två år: 'för få år'.",
        ]),
        ("Vad 'approximation' betyder", [
            "Vissa källor ger ett medelvärde eller en andel per område men inte dess egen "
            "nämnare (till exempel medelinkomst per basområde utan antalet med inkomst). "
            "Stadsdelsområdets värde blir då ett medelvärde av områdenas värden viktat med "
            "befolkningen. Det ligger nära, men är inte exakt, det värde källan själv skulle "
            "ha redovisat för stadsdelsområdet, och indikatorn märks 'approximation'.",
            "Skolresultat beskriver skolorna som ligger i stadsdelsområdet, inte eleverna som "
            "bor där. De vägs med antalet elever (elever med slutbetyg, annars inskrivna i "
            f"årskurs 9); ett år där färre än {wshare} av skolorna med resultat har ett "
            "elevantal räknas alla skolor lika.",
        ]),
        ("Saknade värden", [
            "Undertryckta ('..'), saknade ('.') och avrundade ('~100') värden i källorna läses "
            "aldrig som noll. Ett område utan värde är grått på kartan och 'uppgift saknas' i "
            "tabeller. Röster som Valmyndigheten inte fördelar på valdistrikt (förtidsröster, "
            "uppsamlingsdistrikt) ingår bara i stadens totala värde, så stadsdelarnas "
            "valdeltagande ligger något under stadens officiella.",
        ]),
    ]


# --- number formatting ----------------------------------------------------------------------


def fmt_pct(value: float | None, lang: str, decimals: int | None = None) -> str:
    """'0,15 %' in Swedish, '0.15%' in English; two decimals under 1 %, else one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("no_data", lang)
    if decimals is None:
        decimals = 2 if abs(value) < 1 else 1
    text = fmt_number(value, decimals, lang)
    return f"{text}%" if lang == "en" else f"{text}\u00a0%"


def fmt_cov(share: float, lang: str) -> str:
    """Coverage as a percent rounded down to 0.1, so an incomplete value never reads 100 %."""
    return fmt_pct(math.floor(1000 * share + 1e-9) / 10, lang, 1 if share < 1 else 0)


def fmt_int(value: float | None, lang: str) -> str:
    return fmt_number(None if value is None else float(value), 0, lang)


def year_ranges(years) -> str:
    """[2000, 2001, 2002, 2005] -> '2000–2002, 2005' (sorted, duplicates dropped)."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return "–"
    out, start, prev = [], ys[0], ys[0]
    for y in [*ys[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if y is not None:
            start = prev = y
    return ", ".join(out)


# --- URL state ----------------------------------------------------------------------------------


@dataclass
class DataState:
    lang: str = "sv"
    tab: str = "indicators"
    q: str = ""
    area: str | None = None
    division: str | None = None
    mappable: bool = False
    indicator: str | None = None
    problems: list[str] = field(default_factory=list)

    def query(self) -> str:
        """The canonical query string of this view (defaults left out, lang always in)."""
        params: dict[str, str] = {"lang": self.lang}
        if self.tab != "indicators":
            params["tab"] = self.tab
        if self.q:
            params["q"] = self.q
        if self.area:
            params["area"] = self.area
        if self.division:
            params["division"] = self.division
        if self.mappable:
            params["mappable"] = "1"
        if self.indicator:
            params["indicator"] = self.indicator
        return "?" + urlencode(params)


def division_filter_values() -> tuple[str, ...]:
    return (*MAP_DIVISIONS, NO_DISTRICTS)


def clean_query(value: str) -> str:
    """Search text as plain text: control characters become spaces, runs of space collapse."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return " ".join(text.split())


def parse_data_state(catalog: dict, params: dict) -> DataState:
    """Validated page state from query parameters; never raises. Unknown or hostile values
    fall back to defaults and are named (by parameter, never by value) in `problems`."""
    problems: list[str] = []

    def one(key: str) -> str | None:
        v = params.get(key)
        if v is None:
            return None
        if isinstance(v, (list, tuple)):  # ?a=1&a=2
            problems.append(key)
            v = v[-1] if v else None
        return v if isinstance(v, str) else None

    state = DataState()
    lang = one("lang")
    if lang in LANGS:
        state.lang = lang
    elif lang is not None:
        problems.append("lang")
    tab = one("tab")
    if tab in TABS:
        state.tab = tab
    elif tab not in (None, ""):
        problems.append("tab")
    q = one("q")
    if q:
        cleaned = clean_query(q)
        if len(cleaned) > MAX_QUERY:
            problems.append("q")
            cleaned = cleaned[:MAX_QUERY].rstrip()
        state.q = cleaned
    area = one("area")
    if area in AREAS:
        state.area = area
    elif area not in (None, ""):
        problems.append("area")
    division = one("division")
    if division in division_filter_values():
        state.division = division
    elif division not in (None, ""):
        problems.append("division")
    mappable = one("mappable")
    if mappable in ("1", "true", "yes"):
        state.mappable = True
    elif mappable not in (None, "", "0", "false", "no"):
        problems.append("mappable")
    indicator = one("indicator")
    if indicator in catalog:
        state.indicator = indicator
    elif indicator not in (None, ""):
        problems.append("indicator")
    state.problems = list(dict.fromkeys(problems))
    return state


def state_from_search(catalog: dict, search: str | None) -> DataState:
    return parse_data_state(catalog, params_from_search(search))


# --- search ---------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching ('Lön' and 'lon' both give 'lon')."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def matches(query: str, haystack: str) -> bool:
    """Every word of the query occurs in the (folded) haystack."""
    words = fold(query).split()
    return all(w in haystack for w in words)


# --- what the build says about each indicator -------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Per indicator: which years and divisions the build has, and which are on the map."""

    years: dict[str, list[int]]  # division (incl. 'city') -> years with values, sex total
    map_years: dict[str, list[int]]  # map division -> years complete enough to map

    @property
    def mappable(self) -> bool:
        return any(self.map_years.values())

    @property
    def district_divisions(self) -> list[str]:
        return [d for d in MAP_DIVISIONS if self.years.get(d)]

    @property
    def all_years(self) -> list[int]:
        return sorted({y for ys in self.years.values() for y in ys})


_CACHE: dict[tuple[int, str], tuple[weakref.ref, object]] = {}


def _per_store(store: Store, key: str, make):
    """`make(store)` once per store object (the store is loaded once per process)."""
    hit = _CACHE.get((id(store), key))
    if hit is not None and hit[0]() is store:
        return hit[1]
    value = make(store)
    _CACHE[(id(store), key)] = (weakref.ref(store), value)
    return value


def main_sex(ind: Indicator) -> str:
    """The sex a summary describes: total where the source has it, else its first."""
    return "total" if "total" in ind.sexes else ind.sexes[0]


def _make_facts(store: Store) -> dict[str, Facts]:
    ind = store.indicators
    by = ind.groupby(["indicator_id", "division", "sex"])["year"].unique()
    years: dict[str, dict[str, list[int]]] = {}
    for (i, d, sex), ys in by.items():
        if i in store.catalog and sex == main_sex(store.catalog[i]):
            years.setdefault(i, {})[d] = sorted(int(y) for y in ys)
    out = {}
    for i in store.catalog:
        ys = years.get(i, {})
        out[i] = Facts(ys, {d: store.years(i, d) for d in MAP_DIVISIONS if d in ys})
    return out


def all_facts(store: Store) -> dict[str, Facts]:
    return _per_store(store, "facts", _make_facts)


def _search_index(store: Store, lang: str) -> dict[str, str]:
    return _per_store(store, f"search-{lang}", lambda s: {
        i: fold(" ".join([ind.title.get(lang), ind.definition.get(lang), i]))
        for i, ind in s.catalog.items()
    })


def filter_indicators(store: Store, state: DataState) -> list[str]:
    """Catalog ids (catalog order) that match the state's search text and filters."""
    facts = all_facts(store)
    index = _search_index(store, state.lang)
    out = []
    for i, ind in store.catalog.items():
        f = facts[i]
        if state.area and ind.area != state.area:
            continue
        if state.division == NO_DISTRICTS:
            if f.district_divisions:
                continue
        elif state.division and not f.years.get(state.division):
            continue
        if state.mappable:
            ok = f.map_years.get(state.division) if state.division in MAP_DIVISIONS \
                else f.mappable
            if not ok:
                continue
        if state.q and not matches(state.q, index[i]):
            continue
        out.append(i)
    return out


# --- build tables the store does not hold (read once per build) ---------------------------------


@dataclass(frozen=True)
class Extras:
    crosswalk: pd.DataFrame  # from_division, from_code, to_division, weight, rule
    city: pd.DataFrame  # city observations: source_id, year, variable, value
    unit_sizes: pd.DataFrame  # division, code, year, variable, value (population / eligible)
    published: pd.DataFrame  # transcribed observations with their citations
    unmatched: pd.DataFrame  # unmatched_units.parquet


def _make_extras(store: Store) -> Extras:
    def read(name: str, **kw) -> pd.DataFrame:
        try:
            return pd.read_parquet(store.build_dir / f"{name}.parquet", **kw)
        except (OSError, ValueError):
            return pd.DataFrame()

    cw = read("crosswalk", columns=["from_division", "from_code", "to_division", "to_code",
                                     "weight", "rule"])
    obs = read("observations")
    if obs.empty:
        obs = pd.DataFrame(columns=["source_id", "division", "code", "year", "sex", "variable",
                                    "value", "citation"])
    city = obs[obs["division"] == "city"]
    sizes = obs[
        (obs["sex"] == "total")
        & (
            ((obs["division"].isin(["regso", "basomrade"])) & (obs["variable"] == "population"))
            | (obs["division"].str.startswith("valdistrikt")
               & obs["variable"].str.startswith("eligible_"))
        )
    ][["division", "code", "year", "variable", "value"]]
    published = obs[obs["source_id"].str.startswith("transcribed")]
    return Extras(cw, city.reset_index(drop=True), sizes.reset_index(drop=True),
                  published.reset_index(drop=True), read("unmatched_units"))


def extras(store: Store) -> Extras:
    """Build tables the store does not hold, read once per store: the crosswalk rows (for the
    split shares of divisions the build's crosswalk report has no population for), city and
    unit observations (election matching, unit sizes) and the transcribed citations."""
    return _per_store(store, "extras", _make_extras)


# --- aggregation notes: pure builders (tested with small inputs) -------------------------------


@dataclass(frozen=True)
class SplitStats:
    units: int
    split: int
    size_total: float | None  # population (or electorate) of all units; None if unknown
    size_moved: float | None  # what does not go to its unit's largest part
    rules: tuple[str, ...] = ()  # weighting rules of the split units ('population', 'area')


def split_stats(crosswalk: pd.DataFrame, sizes: pd.Series | None = None) -> SplitStats:
    """How many units of one crosswalk (one from- and to-division) are split, and how much of
    their size (population, eligible voters; indexed by code) moves away from the largest part.

    Same definitions as geo.crosswalk.crosswalk_report: a unit is split when its largest weight
    is below NEST_SHARE; moved = size * (1 - largest weight).
    """
    if crosswalk.empty:
        return SplitStats(0, 0, None, None)
    per = crosswalk.groupby("from_code").agg(max_w=("weight", "max"))
    split = per["max_w"] < NEST_SHARE
    rules = ()
    if "rule" in crosswalk:
        split_rows = crosswalk[crosswalk["from_code"].isin(per.index[split])]
        rules = tuple(sorted(set(split_rows["rule"]) - {"within", "largest_overlap"}))
    total = moved = None
    if sizes is not None and len(sizes):
        s = pd.to_numeric(sizes.reindex(per.index.astype(str)), errors="coerce").to_numpy()
        known = ~pd.isna(s)
        if known.any():
            total = float(s[known].sum())
            moved = float((s[known] * (1 - per["max_w"].to_numpy()[known])).sum())
    return SplitStats(len(per), int(split.sum()), total, moved, rules)


def crosswalk_sentence(from_division: str, to_division: str, stats: SplitStats, lang: str,
                       size_word: str | None = None) -> str:
    """'RegSO → 11 stadsdelsområden (från 2023): 2 av 127 RegSO delas …' in plain words."""
    en = lang == "en"
    head = f"{unit_name(from_division, lang)} → {division_name(to_division, lang)}: "
    units = unit_name(from_division, lang)
    if stats.units == 0:
        return head + ("no crosswalk in the build." if en else "ingen koppling i bygget.")
    if stats.split == 0:
        if en:
            return head + (f"all {fmt_int(stats.units, lang)} {units} lie (at least "
                           f"{fmt_pct(100 * NEST_SHARE, lang, 0)}) in one district each; "
                           "nothing is divided.")
        return head + (f"alla {fmt_int(stats.units, lang)} {units} ligger (till minst "
                       f"{fmt_pct(100 * NEST_SHARE, lang, 0)}) i ett stadsdelsområde var; "
                       "inget fördelas.")
    how = _rule_words(stats.rules, lang)
    size_word = size_word or ("of the population" if en else "av befolkningen")
    if en:
        text = (f"{fmt_int(stats.split, lang)} of {fmt_int(stats.units, lang)} {units} are "
                f"split between districts and divided {how}")
    else:
        text = (f"{fmt_int(stats.split, lang)} av {fmt_int(stats.units, lang)} {units} delas "
                f"mellan stadsdelsområden och fördelas {how}")
    if stats.size_total and stats.size_moved is not None:
        pct = fmt_pct(100 * stats.size_moved / stats.size_total, lang)
        n = fmt_int(round(stats.size_moved), lang)
        if en:
            text += (f", which places {pct} {size_word} ({n}) outside its area's largest "
                     "part")
        else:
            text += f", vilket lägger {pct} {size_word} ({n}) utanför områdets största del"
    return head + text + "."


def _rule_words(rules: tuple[str, ...], lang: str) -> str:
    en = lang == "en"
    words = []
    for r in rules:
        if r == "population":
            words.append("by population share (estimated from basområden)" if en
                         else "efter befolkningsandel (uppskattad från basområden)")
        elif r == "area":
            words.append("by area share" if en else "efter ytandel")
        elif r.startswith("union"):
            words.append("(older basområden split in 2010) by their parts' 2014 population"
                         if en else
                         "(äldre basområden som delades 2010) efter delarnas befolkning 2014")
        else:
            words.append(f"({r})")
    if not words:
        return "by weight" if en else "efter vikt"
    return (" or " if en else " eller ").join(words)


def election_sentence(kind: str, year: int, edition: str | None, eligible: float | None,
                      eligible_unmatched: float | None, voters: float | None,
                      voters_unassigned: float | None, lang: str) -> str:
    """How one election's districts were placed, with the unmatched and unassigned shares."""
    en = lang == "en"
    election = _w(ELECTION_NAMES.get(kind, (kind, kind)), lang)
    ed_year = int(edition.rsplit("_", 1)[-1]) if edition and edition[-4:].isdigit() else None
    parts = []
    if ed_year is None:
        parts.append(f"{year} ({election}): " + ("election districts without boundaries."
                                                 if en else "valdistrikt utan gränser."))
    elif ed_year == year:
        parts.append(f"{year} ({election}): " + (
            f"the {year} election districts have boundaries of their own; every district is "
            "placed." if en else
            f"{year} års valdistrikt har egna gränser; alla valdistrikt kan placeras."))
    else:
        if en:
            s = (f"{year} ({election}): the {year} election districts have no boundaries in "
                 f"the sources and are matched to the {ed_year} districts by code and name")
        else:
            s = (f"{year} ({election}): {year} års valdistrikt saknar gränser i källorna och "
                 f"knyts till {ed_year} års valdistrikt via kod och namn")
        if eligible and eligible_unmatched is not None:
            pct = fmt_pct(100 * eligible_unmatched / eligible, lang, 1)
            n = fmt_int(eligible_unmatched, lang)
            if en:
                s += (f"; {pct} of the eligible voters ({n}) are in districts that could not "
                      "be matched and count only in the city total")
            else:
                s += (f"; {pct} av de röstberättigade ({n}) finns i valdistrikt som inte "
                      "kunde knytas och ingår bara i stadens totala värde")
        parts.append(s + ".")
    if voters and voters_unassigned:
        pct = fmt_pct(100 * voters_unassigned / voters, lang, 1)
        n = fmt_int(voters_unassigned, lang)
        parts.append(
            f"{pct} of the votes ({n}) are not assigned to any election district (early votes, "
            "collection districts) and count only in the city value." if en else
            f"{pct} av rösterna ({n}) är inte fördelade på valdistrikt (förtidsröster, "
            "uppsamlingsdistrikt) och ingår bara i stadens värde.")
    return " ".join(parts)


def reconciliation_sentence(year: int, built: float, official: float, lang: str) -> str:
    """'2014: summerat 877 439 mot officiellt 911 989 (−3,8 %)'."""
    diff = 100 * (built - official) / official
    sign = "+" if diff > 0 else ""
    pct = fmt_pct(diff, lang, 1)
    if lang == "en":
        return (f"{year}: summed {fmt_int(built, lang)} vs official {fmt_int(official, lang)} "
                f"({sign}{pct})")
    return (f"{year}: summerat {fmt_int(built, lang)} mot officiellt {fmt_int(official, lang)} "
            f"({sign}{pct})")


def merges_text(from_division: str, to_division: str, lang: str) -> str:
    """'Hägersten-Liljeholmen + Älvsjö → Hägersten-Älvsjö' for one pair of SDO divisions."""
    mapping = MERGES.get((from_division, to_division), {})
    groups: dict[str, list[str]] = {}
    for src, dst in mapping.items():
        groups.setdefault(dst, []).append(src)
    parts = [" + ".join(DISTRICT_NAMES[s] for s in srcs) + " → " + DISTRICT_NAMES[dst]
             for dst, srcs in groups.items() if len(srcs) > 1]
    return "; ".join(parts) if parts else ("no merges" if lang == "en" else "inga sammanslagningar")


def aggregation_kind_text(ind: Indicator, lang: str) -> str:
    """The catalog's aggregation rule in plain words."""
    a = ind.aggregation
    en = lang == "en"
    scale = f" × {fmt_number(a.scale, 0, lang)}" if a.scale not in (1, 1.0) else ""
    if a.kind == "sum":
        return (f"Sum: the counts ({a.variable}) of the source's areas are added up per "
                "district." if en else
                f"Summa: antalen ({a.variable}) i källans områden summeras per "
                "stadsdelsområde.")
    if a.kind == "ratio":
        return (f"Ratio: numerator ({a.numerator}) and denominator ({a.denominator}) are each "
                f"summed over the source's areas before the ratio is taken{scale}; a "
                "district's value is the pooled rate, not a mean of the areas' rates." if en
                else
                f"Kvot: täljare ({a.numerator}) och nämnare ({a.denominator}) summeras var för "
                f"sig över källans områden innan kvoten tas{scale}; stadsdelsområdets värde är "
                "den sammanvägda andelen, inte ett medelvärde av områdenas andelar.")
    if a.kind == "weighted_mean":
        text = (f"Weighted mean: the source units' values ({a.variable}) are weighted by "
                f"{a.weight}." if en else
                f"Viktat medelvärde: källenheternas värden ({a.variable}) vägs med "
                f"{a.weight}.")
        if a.approximate:
            text += (" This is an approximation: the weight is not the value's own "
                     "denominator, so the result can differ somewhat from the value the "
                     "source would publish for the district." if en else
                     " Det är en approximation: vikten är inte värdets egen nämnare, så "
                     "resultatet kan avvika något från det värde källan själv skulle ha "
                     "redovisat för stadsdelsområdet.")
        return text
    # published
    own = division_name(ind.source_division, lang)
    if ind.source_division == "city":
        return ("Published values: the source gives values for the whole city only; they "
                "are used as published." if en else
                "Publicerade värden: källan redovisar bara värden för hela staden; de används "
                "som de är.")
    text = (f"Published values: the source gives values per {own}; they are used as "
            "published." if en else
            f"Publicerade värden: källan redovisar värden per {own}; de används som de är.")
    if getattr(a, "additive", False):
        text += (" Merged districts of later divisions sum their parts, only when every part "
                 "has a value." if en else
                 " Sammanslagna områden i senare indelningar får summan av sina delar, bara "
                 "när alla delar har ett värde.")
    elif a.merge_weight:
        text += (f" They are carried to later divisions as a mean weighted by "
                 f"{a.merge_weight}, only when every part of a merged district has a value."
                 if en else
                 f" De förs till senare indelningar som ett medelvärde viktat med "
                 f"{a.merge_weight}, bara när alla delar av ett sammanslaget område har ett "
                 "värde.")
    elif ind.source_division in SDO_DIVISIONS:
        text += (" They are not carried to other divisions." if en
                 else " De förs inte till andra indelningar.")
    return text


# --- per-indicator data for the notes ---------------------------------------------------------


def _sizes_for(ex: Extras, division: str, variable: str,
               year: int | None = None) -> tuple[pd.Series, int | None]:
    """Each unit's size (population, eligible voters) in `year`, else the latest year."""
    s = ex.unit_sizes
    s = s[(s["division"] == division) & (s["variable"] == variable)]
    if s.empty:
        return pd.Series(dtype=float), None
    y = year if year is not None and year in set(s["year"]) else int(s["year"].max())
    s = s[s["year"] == y].drop_duplicates("code")
    return pd.Series(s["value"].to_numpy(), index=s["code"].astype(str)), int(y)


def _report_row(store: Store, src: str, dst: str) -> pd.Series | None:
    r = store.crosswalk_report
    r = r[(r["from_division"] == src) & (r["to_division"] == dst)]
    return r.iloc[0] if len(r) else None


def source_divisions_used(store: Store, indicator: str) -> list[str]:
    """Source divisions the build actually used for this indicator's district values."""
    v = store.indicators
    v = v[(v["indicator_id"] == indicator) & v["division"].isin(SDO_DIVISIONS)]
    order = [*SPLIT_DIVISIONS, *SDO_DIVISIONS, "sdo18", "city"]
    have = set(v["source_division"].unique())
    return [d for d in order if d in have]


def crosswalk_notes(store: Store, ind: Indicator, lang: str) -> list[str]:
    """One sentence per (source division used, SDO division) with numbers from the build."""
    ex = extras(store)
    facts = all_facts(store)[ind.id]
    out = []
    for src in source_divisions_used(store, ind.id):
        if src not in SPLIT_DIVISIONS or src == "school":
            continue
        size_var, year = "population", None
        voters = src.startswith("valdistrikt") and bool(ind.aggregation.denominator)
        if voters:
            size_var = ind.aggregation.denominator
            year = max(facts.all_years) if facts.all_years else None
        sizes, size_year = _sizes_for(ex, src, size_var, year)
        if lang == "en":
            size_word = (f"of the eligible voters in {size_year}" if voters
                         else f"of the {size_year} population")
        else:
            size_word = (f"av de röstberättigade {size_year}" if voters
                         else f"av befolkningen {size_year}")
        for dst in SDO_DIVISIONS:
            if not facts.years.get(dst):
                continue
            rows = ex.crosswalk[(ex.crosswalk["from_division"] == src)
                                & (ex.crosswalk["to_division"] == dst)]
            stats = split_stats(rows, sizes)
            rep = _report_row(store, src, dst)
            if rep is not None:
                # Unit counts as the build's crosswalk report gives them. The moved share is
                # computed here with the same definition but this indicator's own size (its
                # election's eligible voters, the latest population), so the year named in
                # the sentence is the year of the numbers in it.
                stats = SplitStats(int(rep["units"]), int(rep["units_split"]),
                                   stats.size_total, stats.size_moved, stats.rules)
            out.append(crosswalk_sentence(src, dst, stats, lang, size_word))
    return out


def election_notes(store: Store, ind: Indicator, lang: str) -> list[str]:
    a = ind.aggregation
    if ind.source_division != "valdistrikt" or not a.denominator:
        return []
    kind = a.denominator.removeprefix("eligible_")
    ex = extras(store)
    city = ex.city
    used = store.indicators
    used = used[(used["indicator_id"] == ind.id) & used["division"].isin(SDO_DIVISIONS)]
    edition = used.groupby("year")["source_division"].first()

    def val(var: str, year: int) -> float | None:
        v = city[(city["variable"] == var) & (city["year"] == year) & (city["sex"] == "total")
                 & city["source_id"].str.startswith("val_")]
        return float(v["value"].iloc[0]) if len(v) else None

    out = []
    years = sorted(set(city.loc[city["variable"] == a.denominator, "year"]) | set(edition.index))
    for y in years:
        y = int(y)
        out.append(election_sentence(
            kind, y, edition.get(y), val(a.denominator, y), val(f"{a.denominator}_unmatched", y),
            val(a.numerator, y), val(f"{a.numerator}_unassigned", y), lang))
    return out


def school_notes(store: Store, ind: Indicator, lang: str) -> list[str]:
    if ind.source_division != "school":
        return []
    ex = extras(store)
    rep = _report_row(store, "school", "sdo11")
    n = int(rep["units"]) if rep is not None else None
    um = ex.unmatched
    missing = 0
    if len(um):
        missing = um[(um["from_division"] == "school") & (um["to_division"] == "sdo11")
                     & ~um["has_rows"].astype(bool)]["from_code"].nunique()
    en = lang == "en"
    text = (f"{fmt_int(n, lang)} schools are placed in the district that contains them (point "
            "in polygon)" if en else
            f"{fmt_int(n, lang)} skolor placeras i det stadsdelsområde där de ligger (punkt i "
            "polygon)") if n is not None else ""
    if missing:
        if en:
            text += ("; 1 school has no position and is left out" if missing == 1 else
                     f"; {missing} schools have no position and are left out")
        else:
            text += ("; 1 skola saknar läge och ingår inte" if missing == 1 else
                     f"; {missing} skolor saknar läge och ingår inte")
    text += "." if text else ""
    text += (" Values describe schools located in the district, not pupils living there, "
             "weighted by pupils." if en else
             " Värdena avser skolor som ligger i stadsdelsområdet, inte elever som bor där, "
             "vägda med antalet elever.")
    return [text.strip()]


def published_notes(store: Store, ind: Indicator, lang: str) -> list[str]:
    a = ind.aggregation
    if a.kind != "published" or ind.source_division not in SDO_DIVISIONS:
        return []
    facts = all_facts(store)[ind.id]
    out = []
    i = SDO_DIVISIONS.index(ind.source_division)
    src = ind.source_division
    for dst in SDO_DIVISIONS[i + 1:]:
        if not facts.years.get(dst):
            continue
        how = ("summed" if lang == "en" else "summeras") if getattr(a, "additive", False) \
            else ("population-weighted mean" if lang == "en" else "befolkningsviktat medelvärde")
        out.append(f"{division_name(src, lang)} → {division_name(dst, lang)}: "
                   f"{merges_text(src, dst, lang)} ({how}).")
    return out


def coverage_table(store: Store, indicator: str, division: str) -> pd.DataFrame:
    """Per year: areas with a value, lowest coverage (and where), areas below MIN_COVERAGE,
    and whether the year is on the map (for the indicator's main sex)."""
    v = store.values(indicator, division, main_sex(store.catalog[indicator]))
    if v.empty:
        return pd.DataFrame(columns=["year", "n", "min_cov", "min_where", "below", "on_map"])
    map_years = set(store.years(indicator, division))
    rows = []
    for y, g in v.groupby("year"):
        low = g.loc[g["coverage"].idxmin()]
        rows.append({
            "year": int(y), "n": int(g["district_code"].nunique()),
            "min_cov": float(low["coverage"]), "min_where": str(low["district_name"]),
            "below": int((g["coverage"] < MIN_COVERAGE).sum()), "on_map": int(y) in map_years,
        })
    return pd.DataFrame(rows)


def uses_population(ind: Indicator) -> bool:
    a = ind.aggregation
    return "population" in (a.variable, a.numerator, a.denominator, a.weight)


def reconciliation_rows(store: Store, ind: Indicator) -> pd.DataFrame:
    """The store's reconciliation for the years and source divisions this indicator uses."""
    rec = getattr(store, "reconciliation", None)
    if rec is None:
        try:
            rec = pd.read_parquet(store.build_dir / "reconciliation.parquet")
        except (OSError, ValueError):
            return pd.DataFrame()
    if not uses_population(ind):
        return rec.iloc[0:0]
    facts = all_facts(store)[ind.id]
    used = set(source_divisions_used(store, ind.id))
    r = rec[rec["year"].isin(facts.all_years)]
    return r[r["source_division"].isin(used) | r["source_division"].isna()]


def published_values(store: Store, ind: Indicator) -> pd.DataFrame:
    """The transcribed observations behind a published indicator, with their citations."""
    if ind.aggregation.kind != "published":
        return pd.DataFrame()
    p = extras(store).published
    if p.empty:
        return p
    return p[p["source_id"].isin(ind.sources) & (p["variable"] == ind.aggregation.variable)]


# --- components -----------------------------------------------------------------------------


def external_link(text: str, url: str | None) -> html.A | html.Span:
    """A plain <a> to an http(s) URL with rel=noopener; anything else stays plain text."""
    if not url or not re.match(r"^https?://", url):
        return html.Span(text)
    return html.A(text, href=url, target="_blank", rel="noopener noreferrer")


def cited_text(citation: str, lang: str) -> list:
    """A citation with its URLs as links (the text itself is never parsed as markup)."""
    out: list = []
    pos = 0
    for m in URL_RE.finditer(citation):
        url = m.group(0).rstrip(".,;)")
        if m.start() > pos:
            out.append(citation[pos:m.start()])
        out.append(external_link(url if len(url) <= 60 else url[:57] + "…", url))
        pos = m.start() + len(url)
    if pos < len(citation):
        out.append(citation[pos:])
    return out


def _section(title: str, children: list, order: int = 4) -> html.Section:
    return html.Section([dmc.Title(title, order=order, mt="lg", mb="xs"), *children])


def _kv_table(rows: list[list]) -> dmc.Table:
    """Label/value rows (row headers, no column headers)."""
    body = [dmc.TableTr([dmc.TableTh(k, w="30%"), dmc.TableTd(v)]) for k, v in rows]
    return dmc.Table(dmc.TableTbody(body), withTableBorder=True, fz="sm", mt="sm")


def _table(headers: list[str], rows: list[list], caption: str | None = None) -> dmc.Table:
    parts = []
    if caption:
        parts.append(dmc.TableCaption(caption))
    parts.append(dmc.TableThead(dmc.TableTr([dmc.TableTh(h) for h in headers])))
    parts.append(dmc.TableTbody([dmc.TableTr([dmc.TableTd(c) for c in r]) for r in rows]))
    return dmc.TableScrollContainer(
        dmc.Table(parts, striped=True, withTableBorder=True, fz="sm",
                  highlightOnHover=True),
        minWidth=480,
    )


def _domain(url: str) -> str:
    return urlparse(url).netloc or url


def source_card(store: Store, source_id: str, lang: str, used_by: int | None = None) -> dmc.Paper:
    reg = store.registry
    if source_id not in reg.sources:
        return dmc.Paper(dmc.Text(source_id), p="sm", withBorder=True)
    s = reg.sources[source_id]
    link = (external_link(_domain(s.homepage) + " ↗", s.homepage) if s.homepage
            else html.Span(t("data_no_homepage", lang)))
    lines = [
        dmc.Text(s.title, fw=600),
        dmc.Text([f"{t('data_publisher', lang)}: ", s.publisher], size="sm"),
        dmc.Text([f"{t('data_licence', lang)}: ", s.licence], size="sm"),
        dmc.Text([f"{t('data_files', lang)}: {len(s.files)} · ", link], size="sm"),
    ]
    if used_by is not None:
        lines.append(dmc.Text(t("data_used_by", lang, n=used_by) if used_by
                              else t("data_used_by_none", lang), size="sm"))
    if s.note:
        lines.append(dmc.Text([f"{t('data_note', lang)}: ", s.note], size="xs", c="dimmed"))
    lines.append(dmc.Code(source_id, fz="xs"))
    return dmc.Paper(dmc.Stack(lines, gap=2), p="sm", withBorder=True)


def _badges(store: Store, ind: Indicator, lang: str) -> dmc.Group:
    f = all_facts(store)[ind.id]
    out = [dmc.Badge(AREAS[ind.area][lang], variant="light")]
    if f.mappable:
        out.append(dmc.Badge(t("data_badge_map", lang), color="teal", variant="light"))
    else:
        out.append(dmc.Badge(t("data_badge_nomap", lang), color="gray", variant="light"))
    if ind.aggregation.approximate:
        out.append(dmc.Badge(t("data_badge_approx", lang), color="orange", variant="light"))
    if ind.reliability_note:
        out.append(dmc.Badge(t("data_badge_secondary", lang), color="yellow", variant="light"))
    if not f.years:
        out.append(dmc.Badge(t("data_badge_nodata", lang), color="red", variant="light"))
    return dmc.Group(out, gap=6)


def list_item(store: Store, indicator: str, lang: str, active: bool) -> dmc.UnstyledButton:
    """One catalog entry: a real <button> (keyboard and screen readers), styled in
    assets/data_sources.css; the chosen one carries data-active and aria-current."""
    ind = store.catalog[indicator]
    f = all_facts(store)[indicator]
    years = year_ranges(f.all_years) if f.all_years else t("no_data", lang)
    desc = f"{AREAS[ind.area][lang]} · {ind.unit.get(lang)} · {years}"
    body = [dmc.Stack([dmc.Text(ind.title.get(lang), size="sm", fw=500,
                                className="data-item-title"),
                       dmc.Text(desc, size="xs", c="dimmed")], gap=0)]
    if f.mappable:
        body.append(dmc.Badge(t("data_badge_map", lang), size="xs", color="teal",
                              variant="light", style={"flexShrink": 0}))
    return dmc.UnstyledButton(
        dmc.Group(body, justify="space-between", wrap="nowrap", gap="xs"),
        id={"type": ids.DATA_ITEM, "index": indicator}, n_clicks=0, className="data-item",
        mod={"active": active},
        **({"aria-current": "true"} if active else {}),
    )


def indicator_list(store: Store, state: DataState) -> tuple[list, str]:
    found = filter_indicators(store, state)
    count = t("data_count", state.lang, n=len(found), total=len(store.catalog))
    if not found:
        return [dmc.Text(t("data_none_found", state.lang), c="dimmed", p="sm")], count
    return [list_item(store, i, state.lang, i == state.indicator) for i in found], count


def indicator_detail(store: Store, indicator: str | None, lang: str) -> list:
    """Everything the page says about one indicator (or a hint when none is chosen)."""
    if not indicator or indicator not in store.catalog:
        return catalog_overview(store, lang)
    ind = store.catalog[indicator]
    facts = all_facts(store)[indicator]
    out: list = [
        dmc.Title(ind.title.get(lang), order=3),
        _badges(store, ind, lang),
        dmc.Text(ind.definition.get(lang), mt="sm"),
    ]
    if ind.reliability_note:
        out.append(dmc.Alert(ind.reliability_note.get(lang), title=t("data_reliability", lang),
                             color="yellow", mt="sm"))
    sexes = ", ".join(_w(SEX_NAMES[s], lang) for s in ind.sexes)
    unit = ind.unit.get(lang) + (f" ({ind.short_unit})" if ind.short_unit else "")
    out.append(_kv_table([
        [t("data_unit", lang), unit],
        [t("data_direction", lang), _w(DIRECTION_NAMES[ind.direction], lang)],
        [t("data_source_division", lang), division_name(ind.source_division, lang)],
        [t("data_sexes", lang), sexes],
        [t("data_id", lang), dmc.Code(ind.id)],
    ]))

    how = []
    if ind.processing:
        how.append(dmc.Text(ind.processing.get(lang)))
    how.append(dmc.Text(aggregation_kind_text(ind, lang), mt="xs"))
    out.append(_section(t("data_processing", lang), how))

    cross = crosswalk_notes(store, ind, lang)
    notes = (cross + election_notes(store, ind, lang) + school_notes(store, ind, lang)
             + published_notes(store, ind, lang))
    if notes:
        intro = [dmc.Text(t("data_nest_rule", lang, pct=fmt_pct(100 * NEST_SHARE, lang, 0)),
                          size="sm", mb=4)] if cross else []
        out.append(_section(t("data_aggregation", lang), [
            *intro, dmc.List([dmc.ListItem(n) for n in notes], size="sm", spacing=4)]))

    out.append(_section(t("data_years", lang), years_block(store, ind, facts, lang)))

    rec = reconciliation_rows(store, ind)
    if len(rec):
        out.append(_section(t("data_reconciliation", lang), reconciliation_block(rec, lang)))

    verdicts = verdict_lines(store, ind, lang)
    if verdicts:
        out.append(_section(t("data_verdicts", lang),
                            [dmc.List([dmc.ListItem(v) for v in verdicts], size="sm")]))

    out.append(_section(t("data_sources_of", lang), [
        dmc.SimpleGrid([source_card(store, s, lang) for s in ind.sources],
                       cols={"base": 1, "lg": 2}, spacing="xs"),
    ]))

    pub = published_values(store, ind)
    if len(pub):
        out.append(_section(t("data_published_values", lang), published_block(ind, pub, lang)))

    links = [html.A(t("data_link_here", lang),
                    href="/data" + DataState(lang=lang, indicator=ind.id).query())]
    if facts.mappable:
        links.append(html.A(t("data_link_map", lang),
                            href="/?" + urlencode({"lang": lang, "indicator": ind.id})))
    out.append(dmc.Group(links, gap="lg", mt="lg"))
    return out


def catalog_overview(store: Store, lang: str) -> list:
    """What the detail panel shows before an indicator is chosen: the catalog in numbers."""
    facts = all_facts(store)
    cat = store.catalog.values()
    rows = []
    for area, names in AREAS.items():
        inds = [i for i in cat if i.area == area]
        rows.append([names[lang], str(len(inds)),
                     str(sum(facts[i.id].mappable for i in inds)),
                     str(sum(i.aggregation.kind == "published" for i in inds))])
    counts = {
        "n": len(store.catalog),
        "mappable": sum(f.mappable for f in facts.values()),
        "approx": sum(i.aggregation.approximate for i in cat),
        "uncertain": sum(i.reliability_note is not None for i in cat),
        "sources": len(store.registry.sources),
    }
    return [
        dmc.Text(t("data_pick", lang), c="dimmed"),
        dmc.Title(t("data_overview", lang), order=3, mt="md"),
        dmc.Text(t("data_overview_text", lang, **counts), mt="xs"),
        _table([t("area", lang), t("data_tab_indicators", lang), t("data_badge_map", lang),
                t("data_published_col", lang)], rows),
    ]


def years_block(store: Store, ind: Indicator, facts: Facts, lang: str) -> list:
    if not facts.years:
        return [dmc.Text(t("data_no_values", lang), size="sm")]
    out = []
    if not facts.district_divisions and facts.years.get("city"):
        out.append(dmc.Text(t("data_city_only", lang, years=year_ranges(facts.years["city"])),
                            size="sm"))
    if not ind.mappable:
        out.append(dmc.Text(t("data_not_mappable", lang), size="sm", c="dimmed"))
    pct = fmt_pct(100 * MIN_COVERAGE, lang, 0)
    rows, details = [], []
    for d in facts.district_divisions:
        cov = coverage_table(store, ind.id, d)
        low = cov.loc[cov["min_cov"].idxmin()] if len(cov) else None
        low_text = (f"{fmt_cov(low['min_cov'], lang)} ({low['min_where']}, "
                    f"{int(low['year'])})") if low is not None else "–"
        map_years = facts.map_years.get(d) or []
        rows.append([
            division_name(d, lang), year_ranges(facts.years[d]),
            year_ranges(map_years) if map_years else t("data_no", lang), low_text,
        ])
        n_units = store.unit_count(d)
        details.append(dmc.AccordionItem([
            dmc.AccordionControl(t("data_coverage_by_year", lang, division=division_name(d, lang))),
            dmc.AccordionPanel(_table(
                [t("year", lang), t("data_with_value_col", lang), t("data_min_cov_col", lang),
                 t("data_below_col", lang, pct=pct), t("data_on_map_col", lang)],
                [[str(r.year), f"{r.n} / {n_units}",
                  f"{fmt_cov(r.min_cov, lang)} ({r.min_where})",
                  str(r.below), t("data_yes" if r.on_map else "data_no", lang)]
                 for r in cov.itertuples()],
            )),
        ], value=d))
    if rows:
        out.append(_table(
            [t("division", lang), t("data_years_col", lang), t("data_map_years_col", lang),
             t("data_min_cov_col", lang)],
            rows,
        ))
        out.append(dmc.Accordion(details, multiple=True, variant="separated", mt="xs"))
    return out


def reconciliation_block(rec: pd.DataFrame, lang: str) -> list:
    both = rec.dropna(subset=["built", "official"])
    out: list = [dmc.Text(t("data_recon_intro", lang), size="sm")]
    if len(both):
        cites = list(dict.fromkeys(c for c in both["citation"].fillna("") if c))
        num = {c: i + 1 for i, c in enumerate(cites)}
        rows = [[str(int(r.year)), fmt_int(r.built, lang), fmt_int(r.official, lang),
                 f"{fmt_int(r.built - r.official, lang)} ({'+' if r.built > r.official else ''}"
                 f"{fmt_pct(100 * (r.built - r.official) / r.official, lang, 1)})",
                 f"[{num[r.citation]}]" if r.citation in num else "–"]
                for r in both.itertuples()]
        out.append(_table([t("year", lang), t("data_recon_summed", lang),
                           t("data_recon_official", lang), t("data_recon_diff", lang),
                           t("data_pub_cite", lang)], rows))
        out.append(_citation_list(cites, lang))
    missing = rec[rec["official"].isna() & rec["built"].notna()]
    if len(missing):
        out.append(dmc.Text(t("data_recon_none", lang, years=year_ranges(missing["year"])),
                            size="sm", c="dimmed", mt=4))
    return out


def verdict_lines(store: Store, ind: Indicator, lang: str) -> list[str]:
    v = store.verdicts
    if v.empty:
        return []
    v = v[(v["indicator_id"] == ind.id) & (v["sex"] == "total")
          & v["division"].isin(SDO_DIVISIONS)]
    words = {"widening": ("skillnaderna har ökat", "the gap has widened"),
             "narrowing": ("skillnaderna har minskat", "the gap has narrowed"),
             "no clear change": ("ingen tydlig förändring", "no clear change"),
             "too few years": ("för få år för att bedöma", "too few years to judge")}
    out = []
    for d in SDO_DIVISIONS[::-1]:
        r = v[v["division"] == d]
        if r.empty:
            continue
        r = r.iloc[0]
        span = str(r["first_year"]) if r["first_year"] == r["last_year"] \
            else f"{r['first_year']}–{r['last_year']}"
        out.append(t("data_verdict_line", lang, division=division_name(d, lang), span=span,
                     verdict=_w(words.get(r["verdict"], (r["verdict"], r["verdict"])), lang),
                     a=fmt_number(r["first_cv"], 3, lang), b=fmt_number(r["last_cv"], 3, lang)))
    return out


def place_name(division: str, code: str) -> str:
    if division in SDO_DIVISIONS:
        return DISTRICT_NAMES.get(code, code)
    if code in PUBLISHED_NAMES:
        return PUBLISHED_NAMES[code]
    return code.replace("_", " ").capitalize()


def published_block(ind: Indicator, pub: pd.DataFrame, lang: str, max_rows: int = 120) -> list:
    """The published values with numbered citations: every value says where it stands."""
    pub = pub.copy()
    pub["_div_order"] = pub["division"].map(
        {d: i for i, d in enumerate(["city", "sdo18", *SDO_DIVISIONS, "stadsdel"])}).fillna(99)
    pub = pub.sort_values(["year", "_div_order", "code", "sex"])
    cites = list(dict.fromkeys(c for c in pub["citation"].fillna("") if c))
    num = {c: i + 1 for i, c in enumerate(cites)}
    rows = []
    for r in pub.head(max_rows).itertuples():
        rows.append([
            place_name(r.division, r.code), division_name(r.division, lang), str(r.year),
            _w(SEX_NAMES.get(r.sex, (r.sex, r.sex)), lang),
            fmt_number(float(r.value), ind.decimals, lang),
            f"[{num[r.citation]}]" if r.citation in num else "–",
        ])
    out: list = [_table([t("data_pub_area", lang), t("data_pub_division", lang), t("year", lang),
                         t("data_pub_sex", lang), t("data_value", lang), t("data_pub_cite", lang)],
                        rows)]
    if len(pub) > max_rows:
        out.append(dmc.Text(t("data_pub_more", lang, n=len(pub) - max_rows), size="sm"))
    out.append(_citation_list(cites, lang))
    return out


def _citation_list(cites: list[str], lang: str) -> html.Ol:
    return html.Ol([html.Li(cited_text(c, lang)) for c in cites], className="data-cites")


def sources_panel(store: Store, lang: str) -> list:
    info = store.info
    used: dict[str, int] = {}
    for ind in store.catalog.values():
        for s in ind.sources:
            used[s] = used.get(s, 0) + 1
    reg = store.registry
    return [
        dmc.Alert(t("data_version_text", lang, version=info.get("data_version", "?"),
                    built=str(info.get("built_at", "?")).replace("T", " "),
                    sources=info.get("source_fingerprint", "?"), n=len(reg.sources)),
                  title=t("data_version", lang), color="blue", mb="md"),
        dmc.Text(t("data_sources_intro", lang), size="sm", mb="sm"),
        dmc.SimpleGrid([source_card(store, s, lang, used.get(s, 0)) for s in reg.sources],
                       cols={"base": 1, "md": 2, "xl": 3}, spacing="sm"),
    ]


def methods_panel(lang: str) -> list:
    out: list = []
    for heading, paragraphs in methods_sections(lang):
        out.append(dmc.Title(heading, order=3, mt="md", mb="xs"))
        out += [dmc.Text(p, mb="xs", maw=900) for p in paragraphs]
    return out
