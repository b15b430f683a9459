"""Jinja2 environment over the package templates (plain text and autoescaped HTML)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("cin_ml.explain", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def text_template(name: str):
    """A template (or macro module) by file name under ``cin_ml/explain/templates``."""
    return _env().get_template(name)
