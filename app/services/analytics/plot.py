"""An SVG picture of a stored forecast: recent history, forecast line, interval band, method.

Plain SVG written here (a few dozen elements), so no plotting library and no fonts or scripts
the browser must fetch; it opens in any browser or spreadsheet and scales without blurring.
"""

import math
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from app.schemas.forecast import ProductForecast

WIDTH, HEIGHT = 900, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 48, 56


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round y-axis ticks (1, 2, 2.5 or 5 x 10^k apart) from 0 to the first at or above `top`."""
    raw = max(top, 1e-9) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [round(step * k, 10) for k in range(math.ceil(top / step - 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def forecast_svg(forecast: ProductForecast, history: dict[str, list[Any]] | None) -> str:
    """The chart as an SVG document."""
    past_dates = [date.fromisoformat(d) for d in (history or {}).get("dates", [])]
    past = [float(q) for q in (history or {}).get("qty", [])]
    future = forecast.predictions
    dates = past_dates + [p.date for p in future]
    first, last = dates[0].toordinal(), dates[-1].toordinal()
    ticks = _ticks(max([*past, *(p.upper_ci for p in future), 1.0]))
    y_top = ticks[-1]

    def x(day: date) -> float:
        return LEFT + (day.toordinal() - first) / max(last - first, 1) * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - value / y_top * (HEIGHT - TOP - BOTTOM)

    def line(points: list[tuple[date, float]]) -> str:
        return " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)

    band = line([(p.date, p.upper_ci) for p in future]) + " " + line([(p.date, p.lower_ci) for p in reversed(future)])
    title = (f"{forecast.product_id}: {len(future)}-period forecast by {forecast.method}"
             + (f", backtest MASE {forecast.mase:.2f}" if forecast.mase is not None else ""))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="12" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in ticks:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
    labelled = [dates[0], future[0].date, dates[-1]] if past_dates else [future[0].date, dates[-1]]
    for day in dict.fromkeys(labelled):
        anchor = "start" if day == dates[0] else "end" if day == dates[-1] else "middle"
        parts.append(f'<text x="{x(day):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}">'
                     f"{day.isoformat()}</text>")
    parts.append(f'<polygon points="{band}" fill="#9ecae1" fill-opacity="0.5" stroke="none">'
                 "<title>prediction interval</title></polygon>")
    if past:
        parts.append(f'<polyline points="{line(list(zip(past_dates, past, strict=True)))}" fill="none" '
                     'stroke="#444" stroke-width="1.5"><title>history</title></polyline>')
        parts.append(f'<line x1="{x(future[0].date):.1f}" x2="{x(future[0].date):.1f}" y1="{TOP}" '
                     f'y2="{HEIGHT - BOTTOM}" stroke="#999" stroke-dasharray="4 3"/>')
    parts.append(f'<polyline points="{line([(p.date, p.predicted_qty) for p in future])}" fill="none" '
                 'stroke="#08519c" stroke-width="2.5"><title>forecast</title></polyline>')
    legend_y = HEIGHT - 16
    for offset, (colour, name) in enumerate((("#444", "history"), ("#08519c", f"forecast ({forecast.method})"),
                                             ("#9ecae1", "interval"))):
        left = LEFT + offset * 200
        parts.append(f'<rect x="{left}" y="{legend_y - 9}" width="18" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + 24}" y="{legend_y}">{escape(name)}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{legend_y}" text-anchor="end" fill="#666">model '
                 f"{escape(forecast.model_version)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)
