"""Charts of the role reports as plain HTML bars (drawn by the browser: crisp at any
width, printable, every word in the page's language, no image to load). Each chart is a
dict the template macro ``_macros.html.j2`` draws, with its legend."""

from __future__ import annotations

from collections.abc import Sequence

from cin_ml.glossary import fmt_number

GROUP_COLOURS = ("#5a6fb0", "#8e5ab0", "#3a8f8f", "#b07a3a", "#6b6b6b")
RISK = "#b00020"
BAND_COLOURS = ("#c62828", "#f0a030", "#3a8f4a")


def _key(text: str, colour: str = "", *, hidden: bool = False, line: bool = False) -> dict:
    return {"text": text, "colour": colour, "hidden": hidden, "line": line}


def _ticks(top: float, lang: str) -> list[dict]:
    step = next(s for s in (5, 10, 20, 25, 50) if top / s <= 6)
    return [{"left": 100 * v / top, "text": fmt_number(v, lang, 0)}
            for v in range(0, int(top) + 1, step)]


def rate_chart(rows: Sequence[tuple[str, float | None]], *, lang: str, axis: str,
               series: str, hidden: str, average: tuple[str, float] | None = None,
               colours: Sequence[str] | None = None,
               legend: Sequence[tuple[str, str]] = ()) -> dict:
    """Horizontal bars of a percentage (0-100) per row; ``None`` is confidential (a hatched
    bar marked ``x``); an optional dashed average line; the legend always lists what is
    drawn.

    Parameters
    ----------
    rows
        ``(label, percent or None)``, top to bottom.
    axis, series, hidden
        Axis title, the bars' legend entry, the confidential bars' legend entry.
    average
        ``(legend text, value)`` of a reference line.
    colours, legend
        One colour per row, and ``(colour, text)`` legend entries replacing ``series``.
    """
    vals = [v for _, v in rows if v is not None]
    top = max([*vals, average[1] if average else 0.0, 10.0]) * 1.1
    top = min(100.0, float(-(-top // 5) * 5))
    cols = list(colours) if colours else [RISK] * len(rows)
    bars = [{"label": lab, "hidden": v is None, "colour": c,
             "width": 0.0 if v is None else 100 * v / top,
             "text": "x" if v is None else fmt_number(v, lang, 1)}
            for (lab, v), c in zip(rows, cols, strict=True)]
    keys = [_key(t, c) for c, t in legend] if legend else [_key(series, RISK)]
    if any(b["hidden"] for b in bars):
        keys.append(_key(hidden, hidden=True))
    line = None
    if average is not None:
        line = {"left": 100 * average[1] / top, "text": average[0]}
        keys.append(_key(average[0], line=True))
    return {"kind": "rate", "bars": bars, "axis": axis, "ticks": _ticks(top, lang),
            "line": line, "legend": keys}


def bands_chart(rows: Sequence[tuple[str, Sequence[float] | None]], band_labels: Sequence[str],
                *, lang: str, axis: str, hidden: str) -> dict:
    """Stacked bars: the share (0-100) of each results band per row (``None``:
    confidential); one legend entry per band."""
    bars = []
    for lab, shares in rows:
        segs = [] if shares is None else [
            {"width": v, "colour": c, "text": fmt_number(v, lang, 0)}
            for v, c in zip(shares, BAND_COLOURS, strict=False)]
        bars.append({"label": lab, "hidden": shares is None, "segments": segs})
    keys = [_key(b, c) for b, c in zip(band_labels, BAND_COLOURS, strict=False)]
    if any(b["hidden"] for b in bars):
        keys.append(_key(hidden, hidden=True))
    return {"kind": "bands", "bars": bars, "axis": axis, "ticks": _ticks(100.0, lang),
            "line": None, "legend": keys}
