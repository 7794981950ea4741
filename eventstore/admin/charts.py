"""Charts drawn on the server: the geometry of bar and line charts, for inline SVG.

The staff pages must work offline (no CDN, no JavaScript library), so a chart
is computed here as plain numbers (bars, points, axis ticks, in SVG user
units) and drawn by the ``eventstore/includes/chart.html`` template, which
also renders the same numbers as a table for screen readers and copying.

Nothing here counts events: the numbers come from :mod:`eventstore.queries.analytics`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

__all__ = ["Bar", "Chart", "Point", "Tick", "bar_chart", "line_chart", "nice_ticks"]

ChartKind = Literal["bar", "line"]

#: Size of the drawing in SVG user units; the SVG scales to its container's width.
WIDTH = 720
HEIGHT = 240
#: Room for the y-axis labels (left) and the x-axis labels (bottom).
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 36
#: Most x-axis labels drawn; the table lists every one.
MAX_X_LABELS = 8
#: Approximate width of one character of an axis label (11px sans-serif), in user units.
CHAR_WIDTH = 6.6


@dataclasses.dataclass(frozen=True)
class Bar:
    """One bar: its label and value, and its rectangle (x, y from the top left)."""

    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclasses.dataclass(frozen=True)
class Point:
    """One point of a line chart: its label and value, and where it is drawn."""

    label: str
    value: int
    x: float
    y: float


@dataclasses.dataclass(frozen=True)
class Tick:
    """An axis tick: the value or label shown, its coordinate along the axis, its text anchor."""

    label: str
    position: float
    anchor: Literal["start", "middle", "end"] = "middle"


@dataclasses.dataclass(frozen=True)
class Chart:
    """A bar or line chart of labelled counts, ready to draw.

    Attributes:
        kind: ``"bar"`` or ``"line"``.
        title: the chart's title (also the table's caption).
        label_heading / value_heading: the table's column headings.
        rows: ``(label, value)`` in the order drawn; the table shows them all.
        bars: the bars (bar charts), one per row.
        points: the points (line charts), one per row; ``path`` joins them.
        y_ticks: values on the y axis (position is y); ``x_ticks``: a few
            labels on the x axis (position is x), at most :data:`MAX_X_LABELS`.
        width / height: the drawing's size; ``plot_*``: the plotting area.
        total / maximum: the sum and the largest of the values (0 when empty).
    """

    kind: ChartKind
    title: str
    label_heading: str
    value_heading: str
    rows: tuple[tuple[str, int], ...]
    bars: tuple[Bar, ...]
    points: tuple[Point, ...]
    path: str
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = MARGIN_LEFT
    plot_top: int = MARGIN_TOP
    plot_right: int = WIDTH - MARGIN_RIGHT
    plot_bottom: int = HEIGHT - MARGIN_BOTTOM
    total: int = 0
    maximum: int = 0

    @property
    def description(self) -> str:
        """A one-line summary for the SVG's ``<desc>`` (the table has the details)."""
        if not self.rows:
            return f"{self.title}: no events."
        peak = max(self.rows, key=lambda row: row[1])
        return (
            f"{self.title}: {len(self.rows)} {self.label_heading.lower()} values, "
            f"{self.total} in all, highest {peak[1]} at {peak[0]}."
        )


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Return about ``count`` + 1 round tick values from 0 to at least ``maximum``.

    The step is 1, 2 or 5 times a power of ten (never below 1, since the
    values are counts); an empty or all-zero chart gets ``[0, 1]``.
    """
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    step = max(1, int(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, int]],
    *,
    label_heading: str = "Bucket",
    value_heading: str = "Events",
) -> Chart:
    """Return a vertical bar chart with one bar per ``(label, value)`` row, in order."""
    return _chart("bar", title, rows, label_heading, value_heading)


def line_chart(
    title: str,
    rows: Sequence[tuple[str, int]],
    *,
    label_heading: str = "Bucket",
    value_heading: str = "Events",
) -> Chart:
    """Return a line chart with one point per ``(label, value)`` row, in order."""
    return _chart("line", title, rows, label_heading, value_heading)


def _chart(
    kind: ChartKind,
    title: str,
    rows: Sequence[tuple[str, int]],
    label_heading: str,
    value_heading: str,
) -> Chart:
    rows = tuple((str(label), int(value)) for label, value in rows)
    left, top = MARGIN_LEFT, MARGIN_TOP
    right, bottom = WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM
    plot_width, plot_height = right - left, bottom - top
    maximum = max((value for _, value in rows), default=0)
    ticks = nice_ticks(maximum)
    scale_top = ticks[-1]

    def y_of(value: int) -> float:
        return round(bottom - plot_height * value / scale_top, 2)

    count = len(rows)
    slot = plot_width / count if count else plot_width
    bars: list[Bar] = []
    points: list[Point] = []
    for index, (label, value) in enumerate(rows):
        if kind == "bar":
            gap = min(slot * 0.2, 4) if slot > 3 else 0
            y = y_of(value)
            bars.append(
                Bar(
                    label=label,
                    value=value,
                    x=round(left + index * slot + gap / 2, 2),
                    y=y,
                    width=round(max(slot - gap, 0.5), 2),
                    height=round(bottom - y, 2),
                )
            )
        else:
            x = left + (index + 0.5) * slot
            points.append(Point(label=label, value=value, x=round(x, 2), y=y_of(value)))
    x_ticks = _x_ticks([label for label, _ in rows], left, right, slot)
    return Chart(
        kind=kind,
        title=title,
        label_heading=label_heading,
        value_heading=value_heading,
        rows=rows,
        bars=tuple(bars),
        points=tuple(points),
        path=" ".join(f"{point.x},{point.y}" for point in points),
        y_ticks=tuple(Tick(label=f"{value:,}", position=y_of(value)) for value in ticks),
        x_ticks=x_ticks,
        total=sum(value for _, value in rows),
        maximum=maximum,
    )


def _x_ticks(labels: list[str], left: float, right: float, slot: float) -> tuple[Tick, ...]:
    """Return evenly spaced x labels that neither overlap nor leave the drawing.

    Text widths are estimated (:data:`CHAR_WIDTH` per character); a label that
    would cross the drawing's edge is anchored at that edge, and one that would
    overlap the label before it is left out.
    """
    if not labels:
        return ()
    label_width = max(len(label) for label in labels) * CHAR_WIDTH + 12
    fitting = max(1, min(MAX_X_LABELS, int((right - left) // label_width)))
    step = max(1, math.ceil(len(labels) / fitting))
    ticks: list[Tick] = []
    previous_end = -math.inf
    for index in range(0, len(labels), step):
        label = labels[index]
        width = len(label) * CHAR_WIDTH
        center = left + (index + 0.5) * slot
        tick = Tick(label=label, position=round(center, 2))
        start, end = center - width / 2, center + width / 2
        if start < 0:
            tick = Tick(label=label, position=round(left, 2), anchor="start")
            start, end = left, left + width
        elif end > WIDTH:
            tick = Tick(label=label, position=round(right, 2), anchor="end")
            start, end = right - width, right
        if start >= previous_end + 6:
            ticks.append(tick)
            previous_end = end
    return tuple(ticks)
