"""Charts drawn on the server: the geometry of bar and line charts, for inline SVG.

The staff pages must work offline (no CDN, no JavaScript library), so a chart
is computed here as plain numbers (bars, points, axis ticks, in SVG user
units) and drawn by the ``eventstore/includes/chart.html`` template, which
also renders the same numbers as a table for screen readers and copying.

Nothing here counts events: the numbers come from :mod:`eventstore.queries.analytics`
and :mod:`eventstore.queries.money`. Values are counts (int) or money
(``Decimal``, shown exactly by ``value_format``); only the drawing's
coordinates are floats.

Time axes: every bucket is a bar or point in order (the services give empty
buckets too, so the axis is continuous); axis ticks use short labels
(``axis_labels``, "Oct 27") at chosen places (``tick_at``, such as the first
hour of each day), the table keeps the full ones. A partial bucket (one the
range or the clock covers only in part) is drawn hatched and named "partial"
in its tooltip and table row.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "Bar",
    "Chart",
    "Point",
    "Row",
    "Tick",
    "bar_chart",
    "day_axis",
    "hour_axis",
    "line_chart",
    "nice_ticks",
]

ChartKind = Literal["bar", "line"]
Value = int | Decimal

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
    """One bar: its label and value, and its rectangle (x, y from the top left).

    ``shown`` is the value as written in the tooltip; ``partial`` marks a bucket
    covered only in part.
    """

    label: str
    value: Value
    x: float
    y: float
    width: float
    height: float
    shown: str = ""
    partial: bool = False


@dataclasses.dataclass(frozen=True)
class Point:
    """One point of a line chart: its label and value, and where it is drawn."""

    label: str
    value: Value
    x: float
    y: float
    shown: str = ""
    partial: bool = False


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of a chart's table: the full label, the value as shown, whether partial."""

    label: str
    shown: str
    partial: bool


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
        rows: ``(label, value)`` in the order drawn; the table shows them all
            (:attr:`table` gives them as :class:`Row`, values as shown).
        bars: the bars (bar charts), one per row.
        points: the points (line charts), one per row; ``path`` joins them.
        y_ticks: values on the y axis (position is y); ``x_ticks``: a few
            labels on the x axis (position is x), at most :data:`MAX_X_LABELS`.
        width / height: the drawing's size; ``plot_*``: the plotting area.
        total / maximum: the sum and the largest of the values (0 when empty).
        shown_total: the total as shown; partial: a flag per row.
    """

    kind: ChartKind
    title: str
    label_heading: str
    value_heading: str
    rows: tuple[tuple[str, Value], ...]
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
    total: Value = 0
    maximum: Value = 0
    shown_total: str = "0"
    partial: tuple[bool, ...] = ()
    shown: tuple[str, ...] = ()

    @property
    def table(self) -> list[Row]:
        """The rows of the chart's table, in order, values as shown."""
        return [
            Row(label=label, shown=shown, partial=partial)
            for (label, _), shown, partial in zip(self.rows, self.shown, self.partial, strict=True)
        ]

    @property
    def has_partial(self) -> bool:
        """Whether some bucket is partial (the page then explains the hatching)."""
        return any(self.partial)

    @property
    def description(self) -> str:
        """A one-line summary for the SVG's ``<desc>`` (the table has the details)."""
        if not self.rows:
            return f"{self.title}: no events."
        peak = max(range(len(self.rows)), key=lambda index: self.rows[index][1])
        return (
            f"{self.title}: {len(self.rows)} {self.label_heading.lower()} values, "
            f"{self.shown_total} in all, highest {self.shown[peak]} at {self.rows[peak][0]}."
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
    rows: Sequence[tuple[str, Value]],
    *,
    label_heading: str = "Bucket",
    value_heading: str = "Events",
    **options: Any,
) -> Chart:
    """Return a vertical bar chart with one bar per ``(label, value)`` row, in order.

    Options (keywords): ``axis_labels`` (a short label per row for the x axis;
    default the labels), ``tick_at`` (indices of the rows that may carry an x
    tick; default every row), ``partial`` (a flag per row), ``value_format``
    (value to text; default ``f"{value:,}"``).
    """
    return _chart("bar", title, rows, label_heading, value_heading, **options)


def line_chart(
    title: str,
    rows: Sequence[tuple[str, Value]],
    *,
    label_heading: str = "Bucket",
    value_heading: str = "Events",
    **options: Any,
) -> Chart:
    """Return a line chart with one point per ``(label, value)`` row, in order.

    Options as :func:`bar_chart`.
    """
    return _chart("line", title, rows, label_heading, value_heading, **options)


def _chart(
    kind: ChartKind,
    title: str,
    rows: Sequence[tuple[str, Value]],
    label_heading: str,
    value_heading: str,
    *,
    axis_labels: Sequence[str] | None = None,
    tick_at: Sequence[int] | None = None,
    partial: Sequence[bool] | None = None,
    value_format: Callable[[Value], str] | None = None,
) -> Chart:
    rows = tuple(
        (str(label), value if isinstance(value, Decimal) else int(value)) for label, value in rows
    )
    show = value_format or (lambda value: f"{value:,}")
    flags = tuple(bool(flag) for flag in partial) if partial is not None else (False,) * len(rows)
    short = [str(label) for label in axis_labels] if axis_labels is not None else None
    if len(flags) != len(rows) or (short is not None and len(short) != len(rows)):
        raise ValueError("partial and axis_labels need one entry per row.")
    maximum: Value = max((value for _, value in rows), default=0)
    ticks = nice_ticks(math.ceil(maximum))
    scale_top = ticks[-1]
    # The y-axis labels fit left of the plot ("200,000" needs more room than "15").
    widest = max(len(f"{value:,}") for value in ticks)
    left, top = max(MARGIN_LEFT, math.ceil(widest * CHAR_WIDTH) + 10), MARGIN_TOP
    right, bottom = WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM
    plot_width, plot_height = right - left, bottom - top

    def y_of(value: Value) -> float:
        return round(bottom - plot_height * float(max(value, 0)) / scale_top, 2)

    count = len(rows)
    slot = plot_width / count if count else plot_width
    bars: list[Bar] = []
    points: list[Point] = []
    shown = tuple(show(value) for _, value in rows)
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
                    shown=shown[index],
                    partial=flags[index],
                )
            )
        else:
            x = left + (index + 0.5) * slot
            points.append(
                Point(
                    label=label,
                    value=value,
                    x=round(x, 2),
                    y=y_of(value),
                    shown=shown[index],
                    partial=flags[index],
                )
            )
    x_ticks = _x_ticks(
        short if short is not None else [label for label, _ in rows],
        left,
        right,
        slot,
        range(count) if tick_at is None else sorted(set(tick_at) & set(range(count))),
    )
    values = [value for _, value in rows]
    decimal = any(isinstance(value, Decimal) for value in values)
    total: Value = sum(values, Decimal(0)) if decimal else sum(values)
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
        plot_left=left,
        x_ticks=x_ticks,
        total=total,
        maximum=maximum,
        shown_total=show(total),
        partial=flags,
        shown=shown,
    )


def _x_ticks(
    labels: list[str], left: float, right: float, slot: float, places: Sequence[int]
) -> tuple[Tick, ...]:
    """Return evenly spaced x labels, at rows of ``places``, that neither overlap nor leave
    the drawing.

    Every k-th of ``places`` carries a tick, k chosen so that the labels fit
    (at most :data:`MAX_X_LABELS`). Text widths are estimated
    (:data:`CHAR_WIDTH` per character); a label that would cross the drawing's
    edge is anchored at that edge, and one that would overlap the label before
    it is left out.
    """
    if not labels or not places:
        return ()
    label_width = max(len(labels[index]) for index in places) * CHAR_WIDTH + 12
    fitting = max(1, min(MAX_X_LABELS, int((right - left) // label_width)))
    step = max(1, math.ceil(len(places) / fitting))
    ticks: list[Tick] = []
    previous_end = -math.inf
    for index in list(places)[::step]:
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


def hour_axis(labels: Sequence[str]) -> tuple[list[str], list[int]]:
    """Return short axis labels and tick places for hour buckets (``"2024-10-27T02:00+01:00"``).

    Over several days, ticks go at the first hour of each day, labelled with the
    day ("Oct 27"); within one day, at every hour, labelled "02:00" (a repeated
    hour shows its offset too: "02:00+01").
    """
    days = [label[:10] for label in labels]
    firsts = [index for index, day in enumerate(days) if index == 0 or days[index - 1] != day]
    if len(firsts) > 1:
        return [_short_day(day) for day in days], firsts
    clocks = [label[11:16] for label in labels]
    repeated = {clock for clock in clocks if clocks.count(clock) > 1}
    short = [
        f"{clock}{label[16:19]}" if clock in repeated else clock
        for clock, label in zip(clocks, labels, strict=True)
    ]
    return short, list(range(len(labels)))


def day_axis(labels: Sequence[str]) -> list[str]:
    """Return short axis labels for day buckets: ``"2024-10-27"`` gives ``"Oct 27"``."""
    return [_short_day(label) for label in labels]


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _short_day(label: str) -> str:
    try:
        day = date.fromisoformat(label)
    except ValueError:
        return label
    return f"{_MONTHS[day.month - 1]} {day.day}"
