"""Readable, self-contained HTML page of a virtual-CSS report (plots inlined as PNG)."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

__all__ = ["render_report_html", "report_figures"]

_PLOT_COLUMNS = ("exam_mark", "m_ecriture_g3", "m_raisonner_g3", "abs_per_year", "cohort_year",
                 "term_sd")


def report_figures(report, source_students: pd.DataFrame, virtual_students: pd.DataFrame
                   ) -> dict:
    """Matplotlib figures: real vs virtual distributions, and the scores against targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {}
    cols = [c for c in _PLOT_COLUMNS if c in source_students and c in virtual_students]
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), constrained_layout=True)
    for ax, c in zip(axes.flat, cols, strict=False):
        r = pd.to_numeric(source_students[c], errors="coerce").dropna()
        v = pd.to_numeric(virtual_students[c], errors="coerce").dropna()
        lo, hi = min(r.min(), v.min()), max(r.max(), v.max())
        bins = 30 if hi > lo else 1
        ax.hist(r, bins=bins, range=(lo, hi), alpha=0.55, density=True, label="source")
        ax.hist(v, bins=bins, range=(lo, hi), alpha=0.55, density=True, label="virtual")
        ax.set_title(c, fontsize=9)
    axes.flat[0].legend(fontsize=8)
    figs["distributions.png"] = fig
    d = report.to_dict()
    scores = {"quality": d["fidelity"]["quality"], "validity": d["fidelity"]["validity"],
              "DCR score": d["privacy"]["dcr"]["score"],
              "1 - MIA AUC": 1 - d["privacy"]["membership_inference"]["auc"]}
    for task, u in d["utility"].items():
        if "ratio" in u:
            scores[f"utility {task}"] = u["ratio"]
    fig2, ax = plt.subplots(figsize=(7, 3), constrained_layout=True)
    ax.barh(list(scores), list(scores.values()), color="#4C72B0")
    ax.set_xlim(0, 1.05)
    ax.set_title("Scores (1 = best)", fontsize=10)
    figs["scores.png"] = fig2
    return figs


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode()


def _rows(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out += _rows(v, f"{prefix}{k}.")
        elif not isinstance(v, list):
            out.append((f"{prefix}{k}", str(v)))
    return out


def render_report_html(report, figures: dict, title: str = "Virtual CSS report") -> str:
    """Render ``report`` (a :class:`VirtualCSSReport`) and its ``figures`` as one HTML page."""
    import matplotlib.pyplot as plt

    d = report.to_dict()
    verdicts = "".join(
        f"<li class={'ok' if ok else 'ko'}>{html.escape(k)}: {'pass' if ok else 'FAIL'}</li>"
        for k, ok in d["verdicts"].items())
    sections = []
    for name in ("fidelity", "privacy", "utility"):
        data = {k: v for k, v in d[name].items() if k != "per_column"}
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                       for k, v in _rows(data))
        sections.append(f"<h2>{name.capitalize()}</h2><table>{rows}</table>")
    for task, u in d["utility"].items():
        if "top_drivers" in u:
            s, v = u["top_drivers"]["source"], u["top_drivers"]["virtual"]
            rows = "".join(f"<tr><td>{i + 1}</td><td>{html.escape(a)}</td><td>{html.escape(b)}"
                           "</td></tr>" for i, (a, b) in enumerate(zip(s, v, strict=False)))
            sections.append(f"<h3>Top drivers, {html.escape(task)}</h3><table><tr><th>#</th>"
                            f"<th>trained on source</th><th>trained on virtual</th></tr>{rows}"
                            "</table>")
    imgs = "".join(f"<figure><img alt='{html.escape(n)}' src='data:image/png;base64,"
                   f"{_png(f)}'><figcaption>{html.escape(n)}</figcaption></figure>"
                   for n, f in figures.items())
    for f in figures.values():
        plt.close(f)
    digests = "".join(f"<li>{html.escape(k)}: <code>{v}</code></li>"
                      for k, v in d["digests"].items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title><style>
body{{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ccc;padding:2px 8px;
font-size:90%}}.ok{{color:#1a7f37}}.ko{{color:#c62828;font-weight:bold}}img{{max-width:100%}}
</style></head><body><h1>{html.escape(title)}</h1>
<p>Overall: <b class={'ok' if d['passed'] else 'ko'}>{'PASS' if d['passed'] else 'FAIL'}</b>
. Virtual students are synthetic: no row is a real student (see privacy).</p>
<ul>{verdicts}</ul>{''.join(sections)}<h2>Plots</h2>{imgs}
<h2>Dataset digests (SHA-256)</h2><ul>{digests}</ul></body></html>
"""
