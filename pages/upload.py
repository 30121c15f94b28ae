"""Your data (/upload): an analyst's own indicator from a CSV or XLSX file.

The file and the form are validated together (indicators.uploads.parse_dash_upload and
validate_meta) before anything is shown or stored; every problem is listed at once with its row
and column, in the page's language. An accepted upload is saved under the browser session
(cookie, see indicators.session_store) and then shows on the map, trends and compare pages
like a built-in indicator. Uploads are private to the session unless shared by a link.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import dash
import dash_mantine_components as dmc
from dash import (
    ALL,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)

from data import upload_store
from indicators import session_store
from indicators.catalog import AREAS
from indicators.uploads import (
    DIVISION_LABELS,
    DIVISION_PREFERENCE,
    MAX_BYTES,
    parse_dash_upload,
    validate_meta,
)
from pages.i18n import add_strings, t
from pages.state import parse_lang

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/upload", name="Egna data", title="Skillnader: egna data")
session_store.install(dash.get_app().server)

P = "upload-"  # component id prefix
FILE, FILENAME, TITLE, UNIT, DIRECTION, DECIMALS, AREA, DIVISION, SUBMIT = (
    f"{P}{x}" for x in ("file", "filename", "title", "unit", "direction", "decimals", "area",
                        "division", "submit"))
RESULT, LIST, REV, LANG, SHARE_OUT, SUGGEST = (
    f"{P}{x}" for x in ("result", "list", "rev", "lang", "share-out", "suggest"))
DELETE, SHARE, UNSHARE = f"{P}delete", f"{P}share", f"{P}unshare"

add_strings({
    "nav_upload": {"sv": "Egna data", "en": "Your data"},
    "up_title": {"sv": "Egna data", "en": "Your data"},
    "up_intro": {
        "sv": "Ladda upp en egen indikator (CSV eller Excel .xlsx) med kolumnerna område, år "
              "och värde. Den visas bara för dig, på kartan, över tid och i jämförelsen, tills "
              "du delar den med en länk.",
        "en": "Upload your own indicator (CSV or Excel .xlsx) with the columns district, year "
              "and value. Only you see it, on the map, over time and in the comparison, until "
              "you share it by a link.",
    },
    "up_drop": {"sv": "Dra hit en fil eller klicka för att välja (CSV, XLSX, högst {mb} MB)",
                "en": "Drop a file here or click to choose (CSV, XLSX, at most {mb} MB)"},
    "up_no_file": {"sv": "Ingen fil vald.", "en": "No file chosen."},
    "up_chosen": {"sv": "Vald fil: {name}", "en": "Chosen file: {name}"},
    "up_f_title": {"sv": "Titel", "en": "Title"},
    "up_f_unit": {"sv": "Enhet", "en": "Unit"},
    "up_f_direction": {"sv": "Riktning", "en": "Direction"},
    "up_f_decimals": {"sv": "Decimaler", "en": "Decimals"},
    "up_f_area": {"sv": "Område i menyerna", "en": "Area in the menus"},
    "up_f_division": {"sv": "Indelning (annars automatiskt)",
                      "en": "Division (else detected)"},
    "up_higher": {"sv": "Högre är bättre", "en": "Higher is better"},
    "up_lower": {"sv": "Lägre är bättre", "en": "Lower is better"},
    "up_neutral": {"sv": "Neutral", "en": "Neutral"},
    "up_submit": {"sv": "Kontrollera och spara", "en": "Check and save"},
    "up_rejected": {"sv": "Filen togs inte emot: {n} problem. Inget har sparats.",
                    "en": "The file was not accepted: {n} problems. Nothing was saved."},
    "up_saved": {"sv": "Sparad: {title}.", "en": "Saved: {title}."},
    "up_detected": {
        "sv": "Indelning: {division}. Teckenkodning: {encoding}. Rader: {rows}. Områden: "
              "{districts}. År: {years}.",
        "en": "Division: {division}. Encoding: {encoding}. Rows: {rows}. Districts: "
              "{districts}. Years: {years}.",
    },
    "up_col_row": {"sv": "Rad", "en": "Row"},
    "up_col_column": {"sv": "Kolumn", "en": "Column"},
    "up_col_problem": {"sv": "Problem", "en": "Problem"},
    "up_col_field": {"sv": "Fält i formuläret: {name}", "en": "Form field: {name}"},
    "up_warnings": {"sv": "Att känna till", "en": "Good to know"},
    "up_list": {"sv": "Dina uppladdningar", "en": "Your uploads"},
    "up_none": {"sv": "Inga uppladdningar ännu.", "en": "No uploads yet."},
    "up_show_map": {"sv": "Visa på kartan", "en": "Show on map"},
    "up_share": {"sv": "Dela", "en": "Share"},
    "up_delete": {"sv": "Ta bort", "en": "Delete"},
    "up_unshare": {"sv": "Sluta dela", "en": "Stop sharing"},
    "up_unshared": {"sv": "Delningen är stoppad: den gamla länken fungerar inte längre.",
                    "en": "Sharing stopped: the old link no longer works."},
    "up_share_link": {"sv": "Länk att dela (alla med länken kan se uppladdningen):",
                      "en": "Link to share (anyone with the link can see the upload):"},
    "up_shared": {"sv": "delad", "en": "shared"},
    "up_values": {"sv": "{n} värden", "en": "{n} values"},
    "up_limit": {"sv": "Du har redan {n} uppladdningar; ta bort någon först.",
                 "en": "You already have {n} uploads; delete one first."},
    "up_db_error": {"sv": "Uppladdningen kunde inte sparas just nu. Försök igen.",
                    "en": "The upload could not be saved right now. Try again."},
    "up_no_session": {"sv": "Din webbläsare tar inte emot kakor; uppladdningar kräver en "
                            "sessionskaka.",
                      "en": "Your browser does not accept cookies; uploads need a session "
                            "cookie."},
})

FIELD_LABELS = {"title": "up_f_title", "unit": "up_f_unit", "direction": "up_f_direction",
                "decimals": "up_f_decimals", "area": "up_f_area"}


def _direction_options(lang: str) -> list[dict]:
    return [{"value": "higher_is_better", "label": t("up_higher", lang)},
            {"value": "lower_is_better", "label": t("up_lower", lang)},
            {"value": "neutral", "label": t("up_neutral", lang)}]


def _division_options(lang: str) -> list[dict]:
    return [{"value": d, "label": DIVISION_LABELS[d][lang]} for d in DIVISION_PREFERENCE]


def layout(**params: object) -> html.Div:
    lang = parse_lang(params.get("lang"))
    return html.Div([
        dcc.Store(id=LANG, data=lang),
        dcc.Store(id=REV, data=0),
        dcc.Store(id=SUGGEST),
        dmc.Title(t("up_title", lang), order=2, mb="xs"),
        dmc.Text(t("up_intro", lang), mb="md", maw=800),
        dcc.Upload(
            id=FILE, accept=".csv,.txt,.xlsx", multiple=False, max_size=MAX_BYTES,
            children=html.Div(t("up_drop", lang, mb=MAX_BYTES // (1024 * 1024))),
            style={"border": "2px dashed #868e96", "borderRadius": "8px", "padding": "24px",
                   "textAlign": "center", "cursor": "pointer", "maxWidth": "800px"},
        ),
        dmc.Text(t("up_no_file", lang), id=FILENAME, size="sm", c="dimmed", mt=4),
        dmc.SimpleGrid(cols={"base": 1, "sm": 2, "lg": 3}, mt="md", maw=1000, children=[
            dmc.TextInput(id=TITLE, label=t("up_f_title", lang), required=True),
            dmc.TextInput(id=UNIT, label=t("up_f_unit", lang), required=True),
            dmc.Select(id=DIRECTION, label=t("up_f_direction", lang),
                       data=_direction_options(lang), value="neutral", allowDeselect=False),
            dmc.NumberInput(id=DECIMALS, label=t("up_f_decimals", lang), value=1, min=0, max=4,
                            allowDecimal=False),
            dmc.Select(id=AREA, label=t("up_f_area", lang), allowDeselect=False,
                       data=[{"value": a, "label": AREAS[a][lang]} for a in AREAS],
                       value=session_store.DEFAULT_AREA),
            dmc.Select(id=DIVISION, label=t("up_f_division", lang), clearable=True,
                       data=_division_options(lang), value=None),
        ]),
        dmc.Button(t("up_submit", lang), id=SUBMIT, mt="md"),
        html.Div(id=RESULT, **{"aria-live": "polite"}),
        dmc.Title(t("up_list", lang), order=3, mt="xl", mb="xs"),
        html.Div(id=SHARE_OUT),
        html.Div(list_children(lang), id=LIST),
    ])


# --- problems and what was detected --------------------------------------------------------


def problem_rows(problems: list, lang: str, form: bool = False) -> list[html.Tr]:
    out = []
    for p in problems:
        if form:
            name = t(FIELD_LABELS[p.column], lang) if p.column in FIELD_LABELS else p.column
            column = t("up_col_field", lang, name=name)
        else:
            column = p.column or ""
            if p.cell:
                column = f"{column} ({p.cell})" if column else p.cell
        row = ", ".join(str(r) for r in p.rows[:8]) if p.rows else (p.row or "")
        out.append(html.Tr([html.Td(str(row)), html.Td(column), html.Td(p.text(lang))]))
    return out


def problem_table(rows: list[html.Tr], lang: str) -> dmc.Table:
    head = html.Thead(html.Tr([html.Th(t("up_col_row", lang), scope="col"),
                               html.Th(t("up_col_column", lang), scope="col"),
                               html.Th(t("up_col_problem", lang), scope="col")]))
    return dmc.Table([head, html.Tbody(rows)], striped=True, withTableBorder=True, mt="xs",
                     className="upload-problems")


def detected_text(det, lang: str) -> str:
    years = f"{det.years[0]}–{det.years[-1]}" if det.years else "–"
    return t("up_detected", lang, division=det.division_label(lang) or "–",
             encoding=det.encoding or ("xlsx" if det.file_type == "xlsx" else "–"),
             rows=det.n_rows, districts=det.n_districts, years=years)


def check_upload(contents, filename, form: dict, lang: str):
    """(meta, result, problems-of-the-form): the file and the form validated together."""
    division = form.pop("division", None) or None
    meta, meta_problems = validate_meta(form, lang)
    result = parse_dash_upload(filename or "", contents or "", lang, division=division)
    return meta, result, meta_problems


# --- the list of the session's uploads -----------------------------------------------------


def map_href(summary, lang: str, area: str | None = None) -> str:
    q = {"lang": lang, "indicator": session_store.indicator_id(summary.upload_id)}
    if area:
        q["area"] = area
    return "/?" + urlencode(q)


def share_href(token: str, upload_id: str, lang: str) -> str:
    return "/?" + urlencode({"lang": lang, "indicator": session_store.indicator_id(upload_id),
                             session_store.SHARE_PARAM: token})


def list_children(lang: str) -> list:
    sid = session_store.session_id()
    try:
        uploads = upload_store.list_for_session(sid) if sid else []
    except upload_store.UploadStoreError:
        log.exception("upload store unavailable")
        return [dmc.Alert(t("up_db_error", lang), color="red")]
    if not uploads:
        return [dmc.Text(t("up_none", lang), c="dimmed", id=f"{P}empty")]
    items = []
    for s in uploads:
        meta = f"{s.unit} · {DIVISION_LABELS[s.division][lang]} · {s.filename} · " \
               f"{s.created_at.date().isoformat()} · {t('up_values', lang, n=s.n_values)}"
        if s.shared:
            meta += f" · {t('up_shared', lang)}"
        items.append(dmc.Paper([
            dmc.Text(s.title, fw=600, className="upload-item-title"),
            dmc.Text(meta, size="sm", c="dimmed"),
            dmc.Group([
                dmc.Anchor(t("up_show_map", lang), href=map_href(s, lang),
                           className="upload-show-map"),
                dmc.Button(t("up_share", lang), id={"type": SHARE, "id": s.upload_id},
                           variant="light", size="xs", className="upload-share"),
                *([dmc.Button(t("up_unshare", lang), id={"type": UNSHARE, "id": s.upload_id},
                              variant="light", color="gray", size="xs",
                              className="upload-unshare")] if s.shared else []),
                dmc.Button(t("up_delete", lang), id={"type": DELETE, "id": s.upload_id},
                           variant="light", color="red", size="xs",
                           className="upload-delete"),
            ], gap="md", mt=4),
        ], withBorder=True, p="sm", mb="sm", maw=800, className="upload-item"))
    return items


# --- callbacks -------------------------------------------------------------------------------


@callback(Output(FILENAME, "children"), Input(FILE, "filename"), State(LANG, "data"),
          prevent_initial_call=True)
def show_filename(filename, lang):
    return t("up_chosen", lang, name=filename) if filename else t("up_no_file", lang)


@callback(Output(SUGGEST, "data"), Input(FILE, "contents"), State(FILE, "filename"),
          State(LANG, "data"), prevent_initial_call=True)
def suggest_title(contents, filename, lang):
    """The title detected from the chosen file (the clientside callback below puts it in the
    title field only if that is still empty when it arrives: typing is never overwritten)."""
    if not contents:
        return no_update
    try:
        det = parse_dash_upload(filename or "", contents, parse_lang(lang)).detected
    except Exception:  # a broken file is reported on submit; no suggestion here
        return no_update
    return det.suggested_title or no_update


clientside_callback(
    """(suggestion, title) => (suggestion && !(title || '').trim())
        ? suggestion : window.dash_clientside.no_update""",
    Output(TITLE, "value", allow_duplicate=True),
    Input(SUGGEST, "data"),
    State(TITLE, "value"),
    prevent_initial_call=True,
)


@callback(
    Output(RESULT, "children"),
    Output(REV, "data", allow_duplicate=True),
    Input(SUBMIT, "n_clicks"),
    State(FILE, "contents"), State(FILE, "filename"),
    State(TITLE, "value"), State(UNIT, "value"), State(DIRECTION, "value"),
    State(DECIMALS, "value"), State(AREA, "value"), State(DIVISION, "value"),
    State(LANG, "data"), State(REV, "data"),
    prevent_initial_call=True,
)
def submit(n_clicks, contents, filename, title, unit, direction, decimals, area, division,
           lang, rev):
    lang = parse_lang(lang)
    if not n_clicks:
        return no_update, no_update
    if not contents:
        return dmc.Alert(t("up_no_file", lang), color="red", mt="md"), no_update
    form = {"title": title or "", "unit": unit or "", "direction": direction or "neutral",
            "decimals": decimals if decimals not in (None, "") else 1,
            "area": area if area in AREAS else session_store.DEFAULT_AREA,
            "division": division}
    meta, result, meta_problems = check_upload(contents, filename, form, lang)
    det = dmc.Text(detected_text(result.detected, lang), size="sm", mt="xs",
                   className="upload-detected")
    if meta is None or not result.ok:
        rows = problem_rows(meta_problems, lang, form=True) + problem_rows(result.errors, lang)
        n = len(meta_problems) + len(result.errors)
        return html.Div([
            dmc.Alert(t("up_rejected", lang, n=n), color="red", mt="md",
                      className="upload-rejected"),
            det, problem_table(rows, lang),
        ]), no_update
    sid = session_store.session_id()
    if sid is None:
        return dmc.Alert(t("up_no_session", lang), color="red", mt="md"), no_update
    try:
        upload_store.save(sid, meta, result.table, filename=filename or "")
    except upload_store.UploadLimitError as exc:
        return dmc.Alert(t("up_limit", lang, n=exc.limit), color="red", mt="md"), no_update
    except upload_store.UploadStoreError:
        log.exception("upload not saved")
        return dmc.Alert(t("up_db_error", lang), color="red", mt="md"), no_update
    out = [dmc.Alert(t("up_saved", lang, title=meta.title), color="green", mt="md",
                     className="upload-saved"), det]
    if result.warnings:
        out += [dmc.Text(t("up_warnings", lang), fw=600, mt="sm"),
                problem_table(problem_rows(result.warnings, lang), lang)]
    return html.Div(out), (rev or 0) + 1


@callback(
    Output(SHARE_OUT, "children"),
    Output(REV, "data", allow_duplicate=True),
    Input({"type": SHARE, "id": ALL}, "n_clicks"),
    Input({"type": DELETE, "id": ALL}, "n_clicks"),
    Input({"type": UNSHARE, "id": ALL}, "n_clicks"),
    State(LANG, "data"), State(REV, "data"),
    prevent_initial_call=True,
)
def share_or_delete(_share, _delete, _unshare, lang, rev):
    lang = parse_lang(lang)
    trig = ctx.triggered_id
    if not isinstance(trig, dict) or not (ctx.triggered and ctx.triggered[0]["value"]):
        return no_update, no_update
    sid = session_store.session_id()
    if sid is None:
        return no_update, no_update
    upload_id = str(trig.get("id", ""))
    try:
        if trig.get("type") == DELETE:
            upload_store.delete(upload_id, sid)
            return "", (rev or 0) + 1
        if trig.get("type") == UNSHARE:
            if not upload_store.unshare(upload_id, sid):
                return no_update, no_update
            return dmc.Alert(t("up_unshared", lang), color="gray", mb="sm", maw=800,
                             className="upload-unshared"), (rev or 0) + 1
        token = upload_store.share_token_for(upload_id, sid)
    except upload_store.UploadStoreError:
        log.exception("upload store unavailable")
        return dmc.Alert(t("up_db_error", lang), color="red"), no_update
    if token is None:
        return no_update, no_update
    from flask import request

    href = request.host_url.rstrip("/") + share_href(token, upload_id, lang)
    return dmc.Alert([dmc.Text(t("up_share_link", lang), size="sm"),
                      dmc.Anchor(href, href=href, className="upload-share-link")],
                     color="blue", mb="sm", maw=800), (rev or 0) + 1


@callback(Output(LIST, "children"), Input(REV, "data"), State(LANG, "data"),
          prevent_initial_call=True)
def refresh_list(_rev, lang):
    return list_children(parse_lang(lang))
