"""Markdown blocks as HTML: rendered (headings, lists, emphasis, code, links, tables), never passing raw
HTML or script through; one renderer (strata.wire.markdown) for the HTML export and the console."""

from __future__ import annotations

from strata.wire import markdown as client_md

DOCS = [
    "# Results\n\n## Detail\n\nplain **bold** *em* ~~gone~~ `code`",
    "- a\n- b\n\n1. one\n2. two",
    "| arch | acc |\n|:--|--:|\n| vit | 0.91 |\n| cnn | 0.88 |",
    "```python\nprint('<b>')\n```\n\n> quoted",
    "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> <b>raw</b>",
    "[ok](https://example.com/a?b=1) [mail](mailto:a@b.c) [top](#top) [js](javascript:alert(1)) "
    "[data](data:text/html,<script>alert(1)</script>) [vb](vbscript:x) ![pic](https://example.com/p.png)",
]


def test_markdown_is_rendered() -> None:
    html = client_md.to_html("\n\n".join(DOCS[:4]))
    for piece in (
        "<h3>Results</h3>", "<h4>Detail</h4>", "<strong>bold</strong>", "<em>em</em>", "<s>gone</s>",
        "<code>code</code>", "<ul>\n<li>a</li>", "<ol>\n<li>one</li>", '<th style="text-align:left">arch</th>',
        '<td style="text-align:right">0.91</td>', '<code class="language-python">print(\'&lt;b&gt;\')',
        "<blockquote>",
    ):  # fmt: skip
        assert piece in html, piece


def test_no_raw_html_or_script_passes_through() -> None:
    html = client_md.to_html(DOCS[4])
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;raw&lt;/b&gt;" in html


def test_only_safe_links_and_no_images() -> None:
    html = client_md.to_html(DOCS[5])
    hrefs = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert hrefs == ["https://example.com/a?b=1", "mailto:a@b.c", "#top", "https://example.com/p.png"]
    assert "<img" not in html and "<script" not in html  # an image is a link to it, never loaded
    assert "[js](javascript:alert(1))" in html and 'rel="noopener noreferrer nofollow"' in html
