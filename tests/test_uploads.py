"""indicators/uploads.py: every rule on tiny hand-made files, in Swedish and English."""

from __future__ import annotations

import base64
import codecs
import io
import json
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import uploads
from indicators.uploads import (
    AreaIndex,
    Gazetteer,
    UploadMeta,
    as_indicator,
    as_indicator_values,
    load_gazetteer,
    parse_dash_upload,
    parse_number,
    parse_upload,
    validate_meta,
)

REGSO = [
    ("0180R001", "Abrahamsberg"), ("0180R002", "Akalla"), ("0180R003", "Hässelby Gård"),
    ("0180R004", "Farsta"), ("0180R005", "Östra Sankt Göran"), ("0180R006", "Kista"),
]
BASOMRADE = [("1010110", "Tre Kronor"), ("1010120", "Skeppsbron")]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(
        {"regso": AreaIndex.build("regso", REGSO),
         "basomrade": AreaIndex.build("basomrade", BASOMRADE)}
    )


def parse(text: str | bytes, gaz: Gazetteer, name: str = "t.csv", lang: str = "sv", **kw):
    content = text.encode("utf-8") if isinstance(text, str) else text
    return parse_upload(name, content, lang, gazetteer=gaz, **kw)


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


def only(result, code: str):
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, (code, [(p.code, p.message) for p in result.problems])
    return found[0]


def xlsx(*sheets: list[list], titles: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    for n, rows in enumerate(sheets):
        ws = wb.active if n == 0 else wb.create_sheet()
        if n < len(titles):
            ws.title = titles[n]
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- names and divisions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "division", "code"),
    [
        ("Spånga - Tensta", "sdo13", "spanga_tensta"),
        ("ENSKEDE-ÅRSTA-VANTÖR", "sdo11", "enskede_arsta_vantor"),
        ("Hägersten-Älvsjö", "sdo11", "hagersten_alvsjo"),
        ("Hägersten–Liljeholmen", "sdo14", "hagersten_liljeholmen"),
        ("Östermalms stadsdelsområde", "sdo13", "ostermalm"),
        ("Rinkeby-Kista sdn", "sdo14", "rinkeby_kista"),
        ("hagersten_alvsjo", "sdo13", "hagersten_alvsjo"),
        ("HÄSSELBY GÅRD", "regso", "0180R003"),
        ("Östra S:t Göran", "regso", "0180R005"),
        ("0180r002", "regso", "0180R002"),
        ("1010110", "basomrade", "1010110"),
    ],
)
def test_spellings_resolve_through_one_function(gaz, name, division, code):
    assert uploads.resolve_area(name, division, gaz).code == code


def test_a_name_outside_its_division_does_not_resolve(gaz):
    assert uploads.resolve_area("Järva", "sdo14", gaz) is None
    assert uploads.resolve_area("Atlantis", "regso", gaz) is None


def test_gazetteer_from_built_geojson(tmp_path):
    feats = [{"type": "Feature", "id": c, "properties": {"name": n}, "geometry": None}
             for c, n in REGSO]
    (tmp_path / "regso.geojson").write_text(json.dumps({"features": feats}), encoding="utf-8")
    g = load_gazetteer(tmp_path, stadsdelar=False)
    assert g.divisions == ("sdo11", "sdo13", "sdo14", "regso")  # no basomrade file: left out
    assert g.resolve("akalla", "regso").name == "Akalla"


@pytest.mark.parametrize(
    ("names", "division"),
    [
        (["Bromma", "Farsta"], "sdo11"),  # in every SDO division and a RegSO: sdo11 preferred
        (["Spånga - Tensta", "Hägersten-Älvsjö"], "sdo13"),
        (["Älvsjö", "Hägersten-Liljeholmen", "Norrmalm"], "sdo14"),
        (["Järva", "Norra innerstan"], "sdo11"),
        (["Akalla", "Farsta", "Kista"], "regso"),
        (["Tre Kronor", "Skeppsbron"], "basomrade"),
    ],
)
def test_division_is_detected_where_all_names_resolve(gaz, names, division):
    text = "område;år;värde\n" + "".join(f"{n};2020;1\n" for n in names)
    result = parse(text, gaz)
    assert result.ok, result.problems
    assert result.detected.division == division
    assert result.detected.division_source == "detected"
    assert set(result.table["division"]) == {division}


def test_division_from_parameter_and_from_column(gaz):
    text = "område;år;värde\nFarsta;2020;1\n"
    assert parse(text, gaz, division="regso").table["district_code"].tolist() == ["0180R004"]
    text = "Indelning;område;år;värde\nRegSO;Farsta;2020;1\nregso;Kista;2020;2\n"
    result = parse(text, gaz)
    assert result.detected.division == "regso"
    assert result.detected.division_source == "column"
    mixed = parse("indelning;område;år;värde\nsdo11;Farsta;2020;1\nregso;Kista;2020;2\n", gaz)
    assert only(mixed, "mixed_division").rows == (2, 3)


def test_header_naming_regso_is_a_hint(gaz):
    result = parse("RegSO-namn;år;värde\nFarsta;2020;1\n", gaz)
    assert result.detected.division == "regso"


def test_unknown_name_gets_three_suggestions_and_all_its_rows(gaz):
    text = "område;år;värde\nBromma;2020;1\nBromaa;2020;2\nBromaa;2021;3\nFarsta;2020;4\n"
    for lang, word in (("sv", "Närmast"), ("en", "Closest")):
        p = only(parse(text, gaz, lang=lang), "unknown_district")
        assert (p.row, p.rows, p.column, p.cell) == (3, (3, 4), "område", "A3")
        assert word in p.message and "Bromaa" in p.message
        suggestions = p.message.rsplit(":", 1)[1].strip(" .").split(", ")
        assert len(suggestions) == 3 and suggestions[0] == "Bromma"


def test_name_from_another_division_is_named_as_such(gaz):
    text = "område;år;värde\nJärva;2024;1\nBromma;2024;2\nRinkeby-Kista;2024;3\n"
    p = only(parse(text, gaz), "district_other_division")
    assert p.row == 4 and all(f"({n})" in p.message for n in (11, 13, 14))


def test_no_name_resolving_anywhere(gaz):
    p = only(parse("område;år;värde\nAtlantis;2020;1\n", gaz, lang="en"), "unknown_area")
    assert p.row == 2 and "Atlantis" in p.message


def test_mojibake_name_is_explained(gaz):
    text = "område;år;värde\nBromma;2020;1\nÖstermalm;2020;2\n".encode().decode("cp1252")
    p = only(parse(text, gaz, division="sdo13"), "mojibake")
    assert "Östermalm" in p.message and p.row == 3


def test_city_totals_are_skipped_with_a_warning(gaz):
    result = parse("område;år;värde\nBromma;2020;1\nStockholms stad;2020;5\n", gaz)
    assert result.ok and len(result.table) == 1
    assert only(result, "city_total").severity == "warning"


# --- CSV formats ----------------------------------------------------------------------------------

TABLE = "Område{d}År{d}Värde\nSpånga - Tensta{d}2020{d}\"12,5\"\nBromma{d}2020{d}3\n"


@pytest.mark.parametrize("delim", [",", ";", "\t"])
@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("utf-16"),  # with BOM
        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
        lambda t: t.encode("cp1252"),
        lambda t: t.encode("latin-1"),
        lambda t: t.encode("utf-16-le"),  # no BOM: recognised by its NUL bytes
    ],
)
def test_csv_encodings_and_delimiters(gaz, delim, encode):
    result = parse(encode(TABLE.format(d=delim)), gaz)
    assert result.ok, result.problems
    assert result.detected.delimiter == delim
    assert result.table["value"].tolist() == [12.5, 3.0]
    assert result.table["district_name"].tolist() == ["Spånga-Tensta", "Bromma"]


def test_excel_sep_line_and_crlf(gaz):
    result = parse("sep=,\r\nOmråde,År,Värde\r\nBromma,2020,1\r\n", gaz)
    assert result.ok and result.detected.delimiter == ","
    assert "rows_above_header" not in codes(result)


@pytest.mark.parametrize(
    "content",
    [
        b"omr\xe5de;\x81r;v\x8drde\n",  # not UTF-8, and 0x81/0x8d are undefined in cp1252
        b"\x00\x01\x02\x03binary\xff\xfe\x00",
        codecs.BOM_UTF8 + b"omr\xe5de",  # a BOM that lies
        b"area;year;value\n\x07bell;2020;1\n",  # control characters: not a text file
    ],
)
def test_wrong_encoding_is_said_clearly(gaz, content):
    for lang, word in (("sv", "teckenkodning"), ("en", "encoding")):
        p = only(parse(content, gaz, lang=lang), "wrong_encoding")
        assert word in p.message.lower() and p.row is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12,5", 12.5), ("12.5", 12.5), ("12 345,6", 12345.6), ("12\u00a0345,6", 12345.6),
        ("1\u202f234\u202f567", 1234567.0), ("\u22123,5", -3.5), ("-3", -3.0), ("+4", 4.0),
        ("1.234.567", 1234567.0), ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("1,234", 1.234),
        ("12,5 %", 12.5), ("1,5E+03", 1500.0), (",5", 0.5), ("0", 0.0),
        ("abc", None), ("12,5,6", None), ("inf", None), ("nan", None), ("1e999", None),
        ("12 34", None), ("", None), ("--3", None), ("١٢", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_missing_values_are_warnings_per_row(gaz):
    text = "område;år;värde\nBromma;2020;..\nFarsta;2020;-\nSkarpnäck;2020;\nKungsholmen;2020;7\n"
    for lang in ("sv", "en"):
        result = parse(text, gaz, lang=lang)
        assert result.ok
        assert result.table["district_code"].tolist() == ["kungsholmen"]
        missing = [p for p in result.problems if p.code == "missing_value"]
        assert [(p.row, p.column, p.severity) for p in missing] == [
            (2, "värde", "warning"), (3, "värde", "warning"), (4, "värde", "warning")
        ]


def test_all_values_missing_is_an_error(gaz):
    result = parse("område;år;värde\nBromma;2020;..\n", gaz)
    assert not result.ok and "no_values" in codes(result)


# --- every problem at once, with row and column, in both languages --------------------------------

BAD = (
    "Område;År;Värde;Kön;Kommentar\n"  # 1
    "Bromma;2020;12,5;k;ok\n"  # 2 fine
    "Bromma;2020;13;kvinnor;\n"  # 3 duplicate of row 2
    ";2020;1;;\n"  # 4 missing district
    "Farsta;;2;;\n"  # 5 missing year
    "Farsta;1850;2;;\n"  # 6 year out of range
    "Farsta;2020,5;2;;\n"  # 7 not a year
    "Farsta;2021;tolv;;\n"  # 8 not a number
    "Farsta;2022;3;x-ish;\n"  # 9 unknown sex
    "=HYPERLINK(\"http://x\");2020;1;;\n"  # 10 formula-like district
    "Skarpnäck;2020;=1+2;;\n"  # 11 formula-like value
    "Atlantis;2020;1;;\n"  # 12 unknown district
    "Norra innerstaden;2020;1;;\n"  # 13 fine: with Bromma, Farsta, Skarpnäck says sdo11
    "Spånga - Tensta;2023;4;;\n"  # 14 a district of another division
)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_problem_is_reported_at_once(gaz, lang):
    result = parse(BAD, gaz, lang=lang)
    assert not result.ok and result.table is None
    got = {(p.code, p.row, p.column) for p in result.errors}
    assert got == {
        ("duplicate_row", 3, "Område"),
        ("missing_district", 4, "Område"),
        ("missing_year", 5, "År"),
        ("year_range", 6, "År"),
        ("bad_year", 7, "År"),
        ("bad_value", 8, "Värde"),
        ("bad_sex", 9, "Kön"),
        ("formula_like", 10, "Område"),
        ("formula_like", 11, "Värde"),
        ("unknown_district", 12, "Område"),
        ("district_other_division", 14, "Område"),
    }
    dup = only(result, "duplicate_row")
    assert dup.rows == (2, 3) and "2" in dup.message and dup.cell == "A3"
    assert only(result, "ignored_column").severity == "warning"
    rows = [p.row for p in result.errors]
    assert rows == sorted(rows)  # in file order


def test_messages_differ_by_language_and_can_be_re_rendered(gaz):
    sv, en = parse(BAD, gaz, lang="sv"), parse(BAD, gaz, lang="en")
    for a, b in zip(sv.problems, en.problems, strict=True):
        assert a.code == b.code and a.message != b.message
        assert a.text("en") == b.message and b.text("sv") == a.message
    assert "saknas" in only(sv, "missing_year").message
    assert "missing" in only(en, "missing_year").message


def test_duplicates_after_resolving_spellings_name_both_rows(gaz):
    result = parse("område;år;värde\nSpånga-Tensta;2020;1\nSPÅNGA - TENSTA;2020;2\n", gaz)
    p = only(result, "duplicate_row")
    assert p.rows == (2, 3) and "Spånga-Tensta" in p.message


def test_sexes(gaz):
    text = "område;år;kön;värde\nBromma;2020;Kvinnor;1\nBromma;2020;män;2\nBromma;2020;;3\n"
    result = parse(text, gaz)
    assert result.table["sex"].tolist() == ["total", "female", "male"]


def test_missing_columns_are_named(gaz):
    for lang, word in (("sv", "år"), ("en", "year")):
        p = only(parse("område;värde\nBromma;1\n", gaz, lang=lang), "missing_column")
        assert p.row == 1 and word in p.message


def test_no_header_and_single_column_hint(gaz):
    p = only(parse("hello world\nfoo bar\n", gaz), "no_header")
    assert p.row == 1 and "enda kolumn" in p.message


def test_duplicate_value_columns_are_an_error(gaz):
    p = only(parse("område;år;andel;antal\nBromma;2020;1;2\n", gaz), "duplicate_column")
    assert p.column == "antal" and p.cell == "D1"


def test_decimal_comma_in_comma_separated_file(gaz):
    result = parse("område,år,värde\nBromma,2020,12,5\nFarsta,2020,3\n", gaz, lang="en")
    p = only(result, "ragged_row")
    assert p.row == 2 and "decimal comma" in p.message


def test_wide_layout(gaz):
    result = parse("område;2019;2020\nBromma;1;2\nFarsta;..;4\n", gaz)
    assert result.ok and result.detected.layout == "wide"
    assert result.table[["district_code", "year", "value"]].values.tolist() == [
        ["bromma", 2019, 1.0], ["bromma", 2020, 2.0], ["farsta", 2020, 4.0]
    ]
    assert only(result, "missing_value").column == "2019"


def test_detected_metadata(gaz):
    result = parse("Stadsdelsområde;År;Andel (%)\nBromma;2020;12,25\nFarsta;2021;3\n", gaz,
                   name="ohälsotal_2020.csv")
    d = result.detected
    assert (d.file_type, d.encoding, d.delimiter, d.header_row, d.layout) == (
        "csv", "utf-8", ";", 1, "long")
    assert d.columns == {"district": "Stadsdelsområde", "year": "År", "value": "Andel (%)"}
    assert (d.unit_hint, d.suggested_decimals, d.suggested_title) == ("%", 2, "ohälsotal 2020")
    assert (d.n_rows, d.n_districts, d.years, d.sexes) == (2, 2, [2020, 2021], ["total"])
    assert d.division_label("en") == "districts from 2023 (11)"


# --- limits ---------------------------------------------------------------------------------------


def test_file_too_large_is_refused_before_parsing(gaz):
    content = b"\xff" * (uploads.MAX_BYTES + 1)  # would be "wrong encoding" if it were read
    result = parse(content, gaz)
    assert codes(result) == ["file_too_large"]
    assert "5,0 MB" in result.problems[0].message


def test_dash_upload_checks_size_before_decoding(gaz, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BYTES", 100)
    big = "data:text/csv;base64," + base64.b64encode(b"x" * 300).decode()
    assert codes(parse_dash_upload("a.csv", big, gazetteer=gaz)) == ["file_too_large"]
    payload = base64.b64encode("område;år;värde\nBromma;2020;1\n".encode()).decode()
    assert parse_dash_upload("a.csv", "data:text/csv;base64," + payload, gazetteer=gaz).ok


@pytest.mark.parametrize("content", [b"", b"   \n\n", codecs.BOM_UTF8, b";;;\n;;\n"])
def test_empty_file(gaz, content):
    assert "empty_file" in codes(parse(content, gaz))


def test_too_many_rows_and_columns(gaz, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ROWS", 3)
    rows = "".join(f"Bromma;{2000 + i};1\n" for i in range(20))
    assert codes(parse("område;år;värde\n" + rows, gaz)) == ["too_many_rows"]
    monkeypatch.setattr(uploads, "MAX_COLUMNS", 4)
    p = only(parse("område;år;värde;a;b;c\nBromma;2020;1;2;3;4\n", gaz), "too_many_columns")
    assert p.row == 1
    # trailing empty fields (as Excel writes them) do not count
    assert parse("område;år;värde;;;;;;\nBromma;2020;1;;;;;;\n", gaz).ok


def test_problem_list_is_capped(gaz, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ERRORS", 5)
    rows = "".join(f"Bromma;{2000 + i};x{i}\n" for i in range(20))
    result = parse("område;år;värde\n" + rows, gaz)
    assert codes(result) == ["bad_value"] * 5 + ["more_errors"]
    assert "15" in result.problems[-1].message


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("a.pdf", b"%PDF-1.4", "unsupported_type"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old_excel"),
        ("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old_excel"),  # encrypted
        ("a.xlsx", b"area;year;value\n", "not_xlsx"),
        ("a.xlsx", b"PK\x03\x04 truncated", "not_xlsx"),
    ],
)
def test_file_types(gaz, name, content, code):
    assert codes(parse(content, gaz, name=name)) == [code]


# --- XLSX -----------------------------------------------------------------------------------------


def test_xlsx_round_trip_with_title_rows(gaz):
    content = xlsx([["Ohälsotal per stadsdel"], [], ["Stadsdelsområde", "År", "Värde"],
                    ["Spånga - Tensta", 2020, 12.5], ["Hägersten-Älvsjö", 2020.0, "12 345,6"],
                    ["ENSKEDE-ÅRSTA-VANTÖR", "2020", -3]])
    result = parse(content, gaz, name="o.xlsx")
    assert result.ok, result.problems
    assert result.detected.header_row == 3 and result.detected.division == "sdo13"
    assert result.table["value"].tolist() == [12.5, -3.0, 12345.6]
    assert "rows_above_header" in codes(result)


def test_xlsx_formula_cells_are_refused_naming_the_cell(gaz):
    content = xlsx([["Område", "År", "Värde", "Anteckning"],
                    ["Bromma", 2020, "=1+2", "=A2"],  # the note column is not read
                    ["Farsta", 2020, 4, None],
                    ["Skarpnäck", "=2019+1", 5, None]])
    for lang, word in (("sv", "formel"), ("en", "formula")):
        result = parse(content, gaz, name="f.xlsx", lang=lang)
        found = {(p.cell, p.row, p.column) for p in result.errors if p.code == "formula_cell"}
        assert found == {("C2", 2, "Värde"), ("B4", 4, "År")}
        assert all(word in p.message for p in result.errors)
        assert any("=1+2" in p.message for p in result.errors)


def test_xlsx_text_that_looks_like_a_formula(gaz):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Område", "År", "Värde"])
    ws.append(["Bromma", 2020, 1])
    ws["A3"] = "@SUM(1+1)"
    ws["A3"].data_type = "s"  # stored as text, not as a formula
    ws["B3"], ws["C3"] = 2020, 1
    buf = io.BytesIO()
    wb.save(buf)
    p = only(parse(buf.getvalue(), gaz, name="t.xlsx"), "formula_like")
    assert p.cell == "A3"


def test_xlsx_other_sheets_and_header_sheet_choice(gaz):
    content = xlsx([["Läs mig"], ["Det här bladet beskriver data"]],
                   [["Område", "År", "Värde"], ["Bromma", 2020, 1]], titles=("Info", "Data"))
    result = parse(content, gaz, name="t.xlsx", lang="en")
    assert result.ok and result.detected.sheet == "Data"
    assert "Info" in only(result, "other_sheets").message


@pytest.mark.parametrize("name", ["m.xlsm", "m.xltm", "m.xlam"])
def test_macro_workbooks_are_refused_by_name(gaz, name):
    content = xlsx([["Område", "År", "Värde"], ["Bromma", 2020, 1]])
    assert codes(parse(content, gaz, name=name)) == ["macro_file"]


def test_macro_workbook_renamed_to_xlsx_is_refused(gaz):
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx([["Område", "År", "Värde"]]))) as src, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\0" * 64)
    assert codes(parse(buf.getvalue(), gaz, name="innocent.xlsx")) == ["macro_file"]


def test_zip_bomb_is_refused_before_opening(gaz, monkeypatch):
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    assert len(buf.getvalue()) < 100_000
    for lang, word in (("sv", "packad"), ("en", "compressed")):
        p = only(parse(buf.getvalue(), gaz, name="bomb.xlsx", lang=lang), "xlsx_ratio")
        assert word in p.message
    assert opened == []


def test_uncompressed_size_limit(gaz, monkeypatch):
    monkeypatch.setattr(uploads, "XLSX_MAX_UNCOMPRESSED", 2000)
    content = xlsx([["Område", "År", "Värde"], ["Bromma", 2020, 1]])
    assert codes(parse(content, gaz, name="t.xlsx")) == ["xlsx_too_big"]


def test_zip_with_too_many_members(gaz, monkeypatch):
    monkeypatch.setattr(uploads, "XLSX_MAX_MEMBERS", 10)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(11):
            zf.writestr(f"f{i}", b"x")
    assert codes(parse(buf.getvalue(), gaz, name="t.xlsx")) == ["xlsx_members"]


def test_xlsx_wide_with_int_year_headers_and_codes(gaz):
    content = xlsx([["RegSO-kod", 2019, 2020], ["0180R002", 1, 2], ["0180R006", None, 3.5]])
    result = parse(content, gaz, name="w.xlsx")
    assert result.ok and result.detected.division == "regso"
    assert result.table["district_name"].tolist() == ["Akalla", "Akalla", "Kista"]


def test_xlsx_cells_of_odd_types(gaz):
    import datetime as dt

    content = xlsx([["Område", "År", "Värde"], ["Bromma", dt.datetime(2020, 1, 1), True],
                    ["Farsta", 2020, 10**30], ["Skarpnäck", 2021, 1]])
    result = parse(content, gaz, name="t.xlsx")
    assert {(p.code, p.row) for p in result.errors} == {("bad_year", 2), ("bad_value", 2)}


# --- form metadata --------------------------------------------------------------------------------


def test_upload_meta_valid():
    meta, problems = validate_meta({"title": "  Ohälsotal ", "unit": "dagar",
                                    "direction": "lower_is_better", "decimals": 1})
    assert problems == [] and meta.title == "Ohälsotal"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"title": "<script>alert(1)</script>", "unit": "%"}, "title", "meta_markup"),
        ({"title": "a > b", "unit": "%"}, "title", "meta_markup"),
        ({"title": "x" * 121, "unit": "%"}, "title", "meta_too_long"),
        ({"title": "   ", "unit": "%"}, "title", "meta_required"),
        ({"unit": "%"}, "title", "meta_required"),
        ({"title": "=HYPERLINK()", "unit": "%"}, "title", "meta_formula"),
        ({"title": "two\nlines", "unit": "%"}, "title", "meta_newline"),
        ({"title": "bidi \u202e", "unit": "%"}, "title", "meta_control"),
        ({"title": "T", "unit": "%", "direction": "up"}, "direction", "meta_choice"),
        ({"title": "T", "unit": "%", "decimals": 7}, "decimals", "meta_range"),
        ({"title": "T", "unit": "%", "decimals": "two"}, "decimals", "meta_int"),
        ({"title": "T", "unit": "%", "decimals": True}, "decimals", "meta_int"),
        ({"title": "T", "unit": "%", "colour": "red"}, "colour", "meta_extra"),
    ],
)
def test_upload_meta_problems(data, field, code):
    for lang in ("sv", "en"):
        meta, problems = validate_meta(data, lang)
        assert meta is None
        assert [(p.column, p.code) for p in problems] == [(field, code)]
        assert problems[0].message == uploads.MESSAGES[code][lang].format(
            **{k: uploads._show(v, lang) for k, v in problems[0].params.items()})


def test_indicator_for_an_upload(gaz):
    table = parse("område;år;värde\nBromma;2020;1\n", gaz).table
    meta = UploadMeta(title="Min indikator", unit="%", decimals=2)
    ind = as_indicator(meta, "sdo11", "0123456789abcdef")
    assert ind.id == "upload_0123456789abcdef" and ind.source_division == "sdo11"
    values = as_indicator_values(table, ind.id)
    from indicators.build import INDICATOR_COLUMNS

    assert list(values.columns) == INDICATOR_COLUMNS


# --- real names (built geojson, stadsdel file) ---------------------------------------------------


def test_real_regso_names_from_the_build():
    if not (uploads.BUILD_GEO_DIR / "regso.geojson").is_file():
        pytest.skip("no build")
    g = load_gazetteer(stadsdelar=False)
    result = parse_upload("r.csv", "regso;år;värde\nAkalla;2020;1\nBromma kyrka;2020;2\n"
                          .encode(), gazetteer=g)
    assert result.ok and result.detected.division == "regso"


@pytest.mark.mirror
def test_stadsdel_names_from_the_boundary_file(registry):
    g = load_gazetteer()
    assert "stadsdel" in g.divisions
    # Names that are stadsdelar only: detected as such.
    text = "stadsdel;år;värde\nLADUGÅRDSGÄRDET;2020;1\nNorra Djurgården;2020;2\n"
    result = parse_upload("s.csv", text.encode(), gazetteer=g)
    assert result.ok, result.problems
    assert result.detected.division == "stadsdel"
    assert result.table["district_name"].tolist() == ["Ladugårdsgärdet", "Norra Djurgården"]
    # Names that are RegSO areas too go to RegSO unless the division is given.
    text = "stadsdel;år;värde\nVårberg;2020;1\nHÄSSELBY GÅRD;2020;2\n"
    assert parse_upload("s.csv", text.encode(), gazetteer=g).detected.division == "regso"
    result = parse_upload("s.csv", text.encode(), gazetteer=g, division="stadsdelar")
    assert result.table["district_name"].tolist() == ["Hässelby gård", "Vårberg"]


# --- fuzz: nothing in a file makes parse_upload raise -------------------------------------------

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _never_fails(result) -> None:
    assert isinstance(result, uploads.UploadResult)
    assert "internal_error" not in codes(result), result.problems
    assert result.ok == (result.table is not None)
    assert result.ok != bool(result.errors)
    for p in result.problems:
        assert p.message and p.severity in ("error", "warning")
        assert p.row is None or p.row >= 1


@FUZZ
@given(content=st.binary(max_size=2000),
       name=st.sampled_from(["a.csv", "a.xlsx", "a.txt", "a", "a.xls", "a.tsv"]),
       lang=st.sampled_from(["sv", "en", "xx"]))
def test_fuzz_random_bytes(gaz, content, name, lang):
    _never_fails(parse_upload(name, content, lang, gazetteer=gaz))


CELLS = st.one_of(
    st.sampled_from(["Bromma", "Spånga - Tensta", "Järva", "Akalla", "2020", "1850", "12,5",
                     "..", "-", "", "=1+2", "@x", "+3", "−4", "1 234,5", "kvinnor", "x",
                     "sdo11", "regso", "Stockholm", "\"", "'", "1e999", "nan"]),
    st.text(max_size=12),
)
HEADERS = st.sampled_from(["område", "År", "Värde", "kön", "indelning", "regso", "2019",
                           "value", "district", "year", "sex", "notes", "", "Andel (%)"])


@FUZZ
@given(header=st.lists(HEADERS, min_size=1, max_size=6),
       rows=st.lists(st.lists(CELLS, max_size=7), max_size=12),
       delim=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
       lang=st.sampled_from(["sv", "en"]))
def test_fuzz_random_csv(gaz, header, rows, delim, encoding, lang):
    text = "\n".join(delim.join(r) for r in [header, *rows])
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        content = text.encode("utf-8")
    _never_fails(parse_upload("f.csv", content, lang, gazetteer=gaz))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(header=st.lists(HEADERS, min_size=1, max_size=5),
       rows=st.lists(st.lists(st.one_of(CELLS, st.integers(-10**20, 10**20),
                                        st.floats(allow_nan=True), st.none(), st.booleans()),
                              max_size=6), max_size=8))
def test_fuzz_random_xlsx(gaz, header, rows):
    try:
        content = xlsx([header, *rows])  # strings starting with "=" become formulas
    except Exception:  # openpyxl refuses some strings (control characters): not our case
        return
    _never_fails(parse_upload("f.xlsx", content, "sv", gazetteer=gaz))
