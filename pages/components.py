"""Building blocks every page shares: the chart card (title, figure, source line, table view)
and the data table. One implementation each, so every chart explains itself the same way."""

from __future__ import annotations

import dash_mantine_components as dmc
import pandas as pd
from dash import dcc, html

from pages.i18n import add_strings, fmt_number, t

add_strings({
    "show_table": {"sv": "Visa data som tabell", "en": "Show data as a table"},
    "district": {"sv": "Område", "en": "Area"},
    "value": {"sv": "Värde", "en": "Value"},
    "coverage": {"sv": "Täckning", "en": "Coverage"},
})


def chart_card(graph_id: str, table_id: str, source_id: str, height: str = "60vh") -> dmc.Paper:
    """A figure with its source line and a collapsible table of exactly the data behind it."""
    return dmc.Paper(
        [
            dcc.Graph(id=graph_id, style={"height": height},
                      config={"displaylogo": False, "responsive": True}),
            dmc.Text(id=source_id, size="xs", c="dimmed", mt=4),
            dmc.Accordion(
                [dmc.AccordionItem(
                    [dmc.AccordionControl(html.Span(id=f"{table_id}-label")),
                     dmc.AccordionPanel(html.Div(id=table_id))],
                    value="table",
                )],
                id=f"{table_id}-accordion",  # value "table" when open: build the table lazily
                variant="contained", mt="xs",
            ),
        ],
        p="xs", withBorder=True,
    )


def data_table(df: pd.DataFrame, columns: dict[str, str], decimals: dict[str, int],
               lang: str, max_rows: int = 500) -> dmc.Table:
    """A plain, accessible table (<table> with a header row); numbers formatted per language.

    columns: dataframe column -> header text; decimals: column -> decimals for numbers.
    """
    head = dmc.TableThead(dmc.TableTr([dmc.TableTh(h) for h in columns.values()]))
    rows = []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for c in columns:
            v = r[c]
            if c in decimals:
                v = fmt_number(None if pd.isna(v) else float(v), decimals[c], lang)
            cells.append(dmc.TableTd(str(v)))
        rows.append(dmc.TableTr(cells))
    return dmc.Table([head, dmc.TableTbody(rows)], striped=True, highlightOnHover=True,
                     withTableBorder=True, fz="sm")


__all__ = ["chart_card", "data_table", "t"]
