"""Round books (:mod:`app.services.round_book`) as pages a crew prints: HTML with print styles,
and PDF.

Both hold, per round, a map of the round (its drawn line, the stops, each street's entry
number at its first bin; "© OpenStreetMap contributors"), then the entries in driving order
with planned times and directions. The map is drawn from the route's own geometry (an
equirectangular projection about the round's middle, exact enough for a few kilometres), so
neither format needs tiles, a browser or a network connection.

PDF: fpdf2, pure Python (no browser or system library at run time, unlike HTML-to-PDF
converters that need Chromium or Pango), maintained and widely used; it draws the map as
vector lines. The text uses DejaVu Sans, which matplotlib (a dependency) ships, so street
names in any Latin, Greek or Cyrillic script print as written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from app.schemas import OSM_ATTRIBUTION
from app.services.round_book import Entry, RoundBook
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAP_WIDTH, MAP_HEIGHT = 640.0, 400.0
"""Size of the map's drawing box (SVG user units; the PDF scales it to the page)."""
MAP_MARGIN = 12.0
LABEL_SPACING = 22.0
"""Least distance (map units) between two street numbers drawn on the map."""

_environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True, slots=True)
class MapDrawing:
    """A round's map in box coordinates (x right, y down, within ``MAP_WIDTH`` x ``MAP_HEIGHT``):
    the ``line``, ``stops`` ``(x, y, kind)`` and numbered ``labels`` ``(x, y, entry number)``."""

    line: list[tuple[float, float]]
    stops: list[tuple[float, float, str]]
    labels: list[tuple[float, float, int]]


def street_numbers(book: RoundBook) -> dict[int, int]:
    """The entry number (1, 2, ...) of each street entry, by its index in ``book.entries``."""
    numbers: dict[int, int] = {}
    for i, entry in enumerate(book.entries):
        if entry.kind == "street":
            numbers[i] = len(numbers) + 1
    return numbers


def map_drawing(book: RoundBook) -> MapDrawing:
    """The round's line, stops and street labels fitted into the map's box, north up."""
    points = book.line + [(lon, lat) for lon, lat, _ in book.stops]
    if not points:
        return MapDrawing([], [], [])
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    scale_x = math.cos(math.radians((south + north) / 2.0))
    width = max((east - west) * scale_x, 1e-9)
    height = max(north - south, 1e-9)
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / width, (MAP_HEIGHT - 2 * MAP_MARGIN) / height)
    off_x = (MAP_WIDTH - width * scale) / 2.0
    off_y = (MAP_HEIGHT - height * scale) / 2.0

    def at(lon: float, lat: float) -> tuple[float, float]:
        return (round(off_x + (lon - west) * scale_x * scale, 2), round(off_y + (north - lat) * scale, 2))

    by_sequence = {i: book.stops[i] for i in range(len(book.stops))}
    labels: list[tuple[float, float, int]] = []
    for index, number in street_numbers(book).items():
        stop = by_sequence.get(book.entries[index].first_sequence)
        if stop is None:
            continue
        x, y = at(stop[0], stop[1])
        # a number that would cover one already placed is left off: a map of a few hundred
        # streets stays readable, and the table names every street anyway
        if all(math.hypot(x - lx, y - ly) >= LABEL_SPACING for lx, ly, _ in labels):
            labels.append((x, y, number))
    return MapDrawing(line=[at(lon, lat) for lon, lat in book.line],
                      stops=[(*at(lon, lat), kind) for lon, lat, kind in book.stops], labels=labels)


def _figures(book: RoundBook) -> str:
    """``"23.4 km, 6:12 h, 412 bins, 2 tips, 06:00-12:12"``."""
    hours, rest = divmod(round(book.duration_s), SECONDS_PER_HOUR)
    return (f"{book.distance_m / METRES_PER_KM:.1f} km, {hours}:{rest // 60:02d} h, {book.bins} bins, "
            f"{book.trips} {'tip' if book.trips == 1 else 'tips'}, {book.start}-{book.end}")


def to_html(books: Sequence[RoundBook], *, title: str) -> str:
    """The round books as one HTML page, one round per printed page."""
    template = _environment.get_template("round_book.html.j2")
    rounds = [{"book": b, "figures": _figures(b), "map": map_drawing(b), "numbers": street_numbers(b)}
              for b in books]
    return template.render(title=title, rounds=rounds, attribution=OSM_ATTRIBUTION,
                           map_width=MAP_WIDTH, map_height=MAP_HEIGHT)


def _font_file(name: str = "DejaVuSans.ttf") -> Path:
    """A DejaVu font file as matplotlib ships it."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _entry_text(entry: Entry, number: int | None) -> tuple[str, str, str]:
    """The PDF table's cells of one entry: number, times, and how to get there above what it is (as in the HTML)."""
    times = entry.arrival if entry.arrival == entry.departure else f"{entry.arrival}-{entry.departure}"
    how = "; ".join(entry.directions)
    what = (f"> {how}\n" if how else "") + entry.title
    return (str(number) if number is not None else "", times,
            what + (f"\nAssisted: {', '.join(entry.assisted)}" if entry.assisted else ""))


def to_pdf(books: Sequence[RoundBook], *, title: str) -> bytes:
    """The round books as a PDF (A4 portrait), each round starting on a new page."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("wasteroute")
    pdf.add_font("DejaVu", "", str(_font_file()))
    pdf.add_font("DejaVu", "B", str(_font_file("DejaVuSans-Bold.ttf")))
    pdf.set_auto_page_break(auto=True, margin=12)
    for book in books:
        pdf.add_page()
        pdf.set_font("DejaVu", size=15)
        pdf.cell(0, 8, f"Round {book.round_id}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        pdf.cell(0, 5, f"{title}: {_figures(book)}", new_x="LMARGIN", new_y="NEXT")
        _draw_map(pdf, book)
        numbers = street_numbers(book)
        with pdf.table(col_widths=(8, 24, 158), text_align=("RIGHT", "LEFT", "LEFT"), line_height=4.5,
                       first_row_as_headings=True) as table:
            table.row(("#", "Time", "Street, stop and directions"))
            for i, entry in enumerate(book.entries):
                table.row(_entry_text(entry, numbers.get(i)))
    return bytes(pdf.output())


def _draw_map(pdf: object, book: RoundBook) -> None:
    """The round's map in a box across the page, with the attribution under it."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    drawing = map_drawing(book)
    left, top = pdf.l_margin, pdf.get_y() + 2
    width = pdf.w - pdf.l_margin - pdf.r_margin
    k = width / MAP_WIDTH
    height = MAP_HEIGHT * k
    pdf.set_draw_color(160, 160, 160)
    pdf.rect(left, top, width, height)
    if len(drawing.line) >= 2:
        pdf.set_draw_color(21, 101, 192)
        pdf.set_line_width(0.5)
        pdf.polyline([(left + x * k, top + y * k) for x, y in drawing.line])
    pdf.set_line_width(0.2)
    colours = {"bin": (90, 90, 90), "disposal": (198, 40, 40), "depot": (46, 125, 50), "break": (239, 108, 0)}
    for x, y, kind in drawing.stops:
        pdf.set_fill_color(*colours.get(kind, (90, 90, 90)))
        size = 0.7 if kind == "bin" else 2.0
        pdf.ellipse(left + x * k - size / 2, top + y * k - size / 2, size, size, style="F")
    pdf.set_font("DejaVu", size=6)
    pdf.set_text_color(0, 0, 0)
    for x, y, number in drawing.labels:
        pdf.text(left + x * k + 0.8, top + y * k - 0.8, str(number))
    pdf.set_xy(left, top + height + 0.5)
    pdf.set_font("DejaVu", size=7)
    pdf.cell(0, 4, OSM_ATTRIBUTION, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
