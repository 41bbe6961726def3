"""The output-safety check parses the rendered HTML: markup fails, words about markup pass."""

from __future__ import annotations

import html

import nbformat
import pytest

from feedback_lib.reporting import narrate, safe_table
from feedback_lib.reporting.safety import active_html, active_html_outputs

# Verbatims a customer may write: each is text and must survive the check once escaped.
HARMLESS_VERBATIMS = [
    "only = the price is too high",
    "the export says javascript: void(0) when I click it",
    "Please fix <script>alert('x')</script> showing in your app",
    "onload= is what your docs say, onerror = nothing happens",
    "<img src=x onerror=alert(1)> appears as text in the invoice",
    "We use iframe embeds; <iframe src='javascript:1'> broke",
    "a href=\"javascript:alert(1)\" — your widget",
    "data:text/html,<b>hi</b> and vbscript:msgbox",
    "&lt;script&gt; already escaped by the export",
]


@pytest.mark.parametrize("verbatim", HARMLESS_VERBATIMS)
def test_escaped_verbatims_are_text_not_findings(verbatim):
    page = f"<html><body><p>{html.escape(verbatim)}</p><td>{html.escape(verbatim)}</td></body></html>"
    assert active_html(page) == []


@pytest.mark.parametrize("verbatim", HARMLESS_VERBATIMS)
def test_library_renderers_produce_inert_html(verbatim):
    import pandas as pd

    table = safe_table(pd.DataFrame({"comment": [verbatim], "mrr": [10.0]}))
    sentence = narrate("Verbatim: {v}", v=verbatim)
    for shown in (table, sentence):
        markup = shown._repr_html_() if hasattr(shown, "_repr_html_") else str(shown)
        assert active_html(markup) == []


@pytest.mark.parametrize(
    ("markup", "finding"),
    [
        ("<script>alert(1)</script>", "<script> element"),
        ("<SCRIPT SRC=//x.example/a.js></SCRIPT>", "<script> element"),
        ("<iframe src='https://example.com'></iframe>", "<iframe> element"),
        ("<object data='x.swf'></object>", "<object> element"),
        ("<embed src='x.swf'>", "<embed> element"),
        ("<img src=x onerror=alert(1)>", "onerror attribute on <img>"),
        ("<svg onload=alert(1)/>", "onload attribute on <svg>"),
        ("<body ONLOAD='x()'>", "onload attribute on <body>"),
        ("<a href='javascript:alert(1)'>x</a>", "href='javascript:alert(1)' on <a>"),
        ("<a href=' JaVaScRiPt:alert(1)'>x</a>", "href='JaVaScRiPt:alert(1)' on <a>"),
        ("<a href='java\tscript:alert(1)'>x</a>", "href='javascript:alert(1)' on <a>"),
        ("<a href='&#106;avascript:alert(1)'>x</a>", "href='javascript:alert(1)' on <a>"),
        ("<a href='vbscript:msgbox(1)'>x</a>", "href='vbscript:msgbox(1)' on <a>"),
        ("<a href='data:text/html,<script>'>x</a>", "href='data:text/html,<scri' on <a>"),
        ("<iframe srcdoc='&lt;script&gt;'>", "srcdoc attribute on <iframe>"),
        ("<meta http-equiv='Refresh' content='0;url=https://x.example'>",
         "<meta http-equiv=refresh>"),
        ("<form action='https://x.example'><input></form>", "<form> element"),
        ("<base href='https://x.example/'>", "<base> element"),
    ],
)
def test_real_active_markup_is_found(markup, finding):
    assert finding in active_html(f"<div>{markup}</div>")


def test_inline_images_and_ordinary_links_pass():
    page = ("<img alt='chart' src='data:image/png;base64,iVBORw0KGgo='>"
            "<a href='https://example.com/docs#nps'>docs</a><style>td{color:red}</style>")
    assert active_html(page) == []


def test_active_html_outputs_names_only_cells_with_markup():
    nb = nbformat.v4.new_notebook()
    words = nbformat.v4.new_code_cell("x")
    words.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": "<p>only = javascript: &lt;script&gt;</p>"})]
    script = nbformat.v4.new_code_cell("y")
    script.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": "<p>ok</p><script>steal()</script>"})]
    plain = nbformat.v4.new_code_cell("z")
    plain.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="<script> in a stream is text")]
    nb.cells = [words, script, plain]
    assert active_html_outputs(nb) == [1]
