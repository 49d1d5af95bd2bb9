"""Where people look: the trend as text (``cleaning report --nights N``) and a self-contained
HTML page per night (``reports/health/run_date=D/index.html``): the flags on top, then per
source small charts over the last nights, drawn by matplotlib (Agg, no display) and embedded as
PNG data URIs, so the file opens from the lake, a mail or an artifact store without a server.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import date

from cleaning import layout
from cleaning.store import Lake


def _series(lake: Lake, run_date: date, nights: int) -> tuple[list[date], dict[str, dict[date, dict]]]:
    from cleaning.health import health_nights, read_night

    dates = health_nights(lake, run_date, nights)
    by_source: dict[str, dict[date, dict]] = {}
    for night in dates:
        for row in read_night(lake, night):
            by_source.setdefault(row["source"], {})[night] = row
    return dates, by_source


def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:.0%}"
    if kind == "sec":
        return f"{value:.2f}"
    return f"{value:g}"


TREND_COLUMNS = (
    ("night", None, None),
    ("disc", "discovered", "n"),
    ("fetch", "fetched", "n"),
    ("clean", "cleaned", "n"),
    ("rej", "rejected", "n"),
    ("dup", "duplicates", "n"),
    ("pub", "published", "n"),
    ("yield", "yield_share", "pct"),
    ("fail", "failure_share", "pct"),
    ("words", "body_words_median", "n"),
    ("furn", "furniture_share", "pct"),
    ("wire", "wire_share", "pct"),
    ("s/page", "fetch_seconds_per_page", "sec"),
    ("flags", None, None),
)


def format_trend(lake: Lake, run_date: date, nights: int) -> str:
    """Per source, one line per night over the last ``nights`` published nights up to
    ``run_date``, with the flags of ``run_date`` listed first."""
    dates, by_source = _series(lake, run_date, nights)
    if run_date not in dates:
        return f"source health: no health rows for {run_date} (health is recorded when a night publishes)"
    tonight = [(s, f) for s, rows in by_source.items() if run_date in rows for f in rows[run_date]["flags"]]
    out = [f"source health over {len(dates)} night(s), {dates[0]} to {run_date}"]
    out.append(f"flags on {run_date}: {len(tonight) or 'none'}")
    out += [f"  {source}: {flag['flag']}: {flag['evidence']}" for source, flag in tonight]
    for source in sorted(by_source):
        rows = by_source[source]
        table = [[h for h, _, _ in TREND_COLUMNS]]
        for night in dates:
            row = rows.get(night)
            if row is None:
                continue
            cells = [night.isoformat()]
            cells += [_fmt(row.get(key), kind) for _, key, kind in TREND_COLUMNS[1:-1]]
            cells.append(",".join(f["flag"] for f in row["flags"]) or "-")
            table.append(cells)
        widths = [max(len(r[i]) for r in table) for i in range(len(TREND_COLUMNS))]
        out.append("")
        out.append(source)
        for r in table:
            line = "  ".join(
                v.ljust(w) if i in (0, len(r) - 1) else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))
            )
            out.append("  " + line.rstrip())
    return "\n".join(out)


# ---------------------------------------------------------------- HTML
PANELS = (
    ("items a night", (("discovered", "discovered"), ("cleaned", "cleaned"), ("published", "published"))),
    ("shares", (("yield_share", "yield"), ("failure_share", "failure"))),
    ("body words (median, p25-p75)", (("body_words_median", "median"),)),
    ("furniture / wire share", (("furniture_share", "furniture"), ("wire_share", "wire"))),
)
FLAG_COLOR = "#d62728"


def _chart(dates: list[date], rows: dict[date, dict]) -> str:
    """One source's small charts as a PNG data URI."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 2.3), dpi=80, layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    xs = list(range(len(dates)))
    flagged = [i for i, d in enumerate(dates) if d in rows and rows[d]["flags"]]
    labels = [d.strftime("%m-%d") for d in dates]
    for ax, (title, series) in zip(axes, PANELS):
        for key, label in series:
            ys = [rows[d].get(key) if d in rows else None for d in dates]
            ys = [float("nan") if y is None else y for y in ys]
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, label=label)
        if title.startswith("body"):
            low = [rows[d].get("body_words_p25") if d in rows else None for d in dates]
            high = [rows[d].get("body_words_p75") if d in rows else None for d in dates]
            ax.fill_between(
                xs,
                [float("nan") if v is None else v for v in low],
                [float("nan") if v is None else v for v in high],
                alpha=0.25,
            )
        if "share" in title:
            ax.set_ylim(-0.05, 1.05)
        else:
            ax.set_ylim(bottom=0)
        for i in flagged:
            ax.axvspan(i - 0.4, i + 0.4, color=FLAG_COLOR, alpha=0.18, linewidth=0)
        ax.set_title(title, fontsize=9)
        step = max(1, len(xs) // 6)
        ax.set_xticks(xs[::step], labels[::step], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=6, loc="best")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
.flags { border: 2px solid #d62728; background: #fdecea; padding: .6em 1em; border-radius: 6px; }
.ok { border: 2px solid #2ca02c; background: #eaf7ea; padding: .6em 1em; border-radius: 6px; }
.flag-name { font-weight: bold; color: #a31515; }
table { border-collapse: collapse; font-size: .85em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img.chart { display: block; max-width: 100%; }
.flagged { background: #fdecea; }
"""


def render_html(lake: Lake, run_date: date, nights: int = 30) -> str:
    """The night's report: flags on top, tonight's numbers, then each source's charts."""
    dates, by_source = _series(lake, run_date, nights)
    esc = html.escape
    tonight = {s: rows[run_date] for s, rows in by_source.items() if run_date in rows}
    flags = [(s, f) for s, row in sorted(tonight.items()) for f in row["flags"]]
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>Source health {run_date}</title><style>{STYLE}</style></head><body>",
        f"<h1>Source health, night {run_date}</h1>",
        f"<p>{len(dates)} published night(s) shown, {esc(str(dates[0]) if dates else '-')} to {run_date}; "
        f"lake <code>{esc(lake.uri)}</code>. Shaded nights carry flags.</p>",
    ]
    if flags:
        parts.append(f"<section class='flags' id='flags'><h2>{len(flags)} flag(s) on {run_date}</h2><ul>")
        parts += [
            f"<li data-source='{esc(s)}' data-flag='{esc(f['flag'])}'><b>{esc(s)}</b>: "
            f"<span class='flag-name'>{esc(f['flag'])}</span>: {esc(f['evidence'])}</li>"
            for s, f in flags
        ]
        parts.append("</ul></section>")
    else:
        parts.append(f"<section class='ok' id='flags'><h2>No flags on {run_date}</h2></section>")
    headers = [h for h, _, _ in TREND_COLUMNS[1:-1]]
    parts.append("<h2>Tonight</h2><table><tr><th>source</th>" + "".join(f"<th>{esc(h)}</th>" for h in headers))
    parts.append("<th>flags</th></tr>")
    for source, row in sorted(tonight.items()):
        cls = " class='flagged'" if row["flags"] else ""
        cells = "".join(f"<td>{_fmt(row.get(key), kind)}</td>" for _, key, kind in TREND_COLUMNS[1:-1])
        names = ", ".join(f["flag"] for f in row["flags"]) or "-"
        parts.append(f"<tr{cls}><td>{esc(source)}</td>{cells}<td>{esc(names)}</td></tr>")
    parts.append("</table>")
    for source in sorted(by_source):
        parts.append(f"<h2 id='source-{esc(source)}'>{esc(source)}</h2>")
        parts.append(
            f"<img class='chart' alt='{esc(source)}: items, shares, body words, furniture and wire share by night' "
            f"src='{_chart(dates, by_source[source])}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def report_path(lake: Lake, run_date: date) -> str:
    return lake.path(layout.health_report(run_date))
