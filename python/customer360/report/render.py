"""The report page: the Jinja template ``templates/report.html.j2`` rendered to one
self-contained HTML document (styles, script and base64 PNG plots inline)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from functools import cache

import jinja2

from customer360.report.sections import Section

TEMPLATE = "report.html.j2"


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@cache
def environment() -> jinja2.Environment:
    """Templates load from the installed package (editable or not: the template ships as
    package data), every value is HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("customer360.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["b64encode"] = _b64encode
    return env


def render_html(
    sections: Sequence[Section], overview: Sequence[tuple[str, str]], generated_at: datetime
) -> str:
    """The report page: one self-contained HTML document."""
    template = environment().get_template(TEMPLATE)
    return template.render(sections=sections, overview=overview, generated_at=generated_at)
