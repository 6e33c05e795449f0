"""Links in bot and agent messages: a Markdown parser finds them all; only http(s), mailto and tel survive."""

import pytest

from bot.links import link_targets, safe_markdown


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x][1]\n\n[1]: javascript:alert(1)",
        "<javascript:alert(1)>",
        "[x](&#106;avascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](%6Aavascript:x)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![pixel](javascript:x)",
        "[x](vbscript:msgbox)",
        "<a href='javascript:x'>x</a>",
        '<img src=x onerror="alert(1)">',
    ],
)
def test_no_script_link_survives_in_any_markdown_form(text):
    safe = safe_markdown(text)
    assert all(
        not target.lower().lstrip().startswith(("javascript", "data", "vbscript", "%6a", "&#"))
        for target in link_targets(safe)
    )
    assert "](" not in safe.replace("\\](", "").replace("\\]\\(", "")


@pytest.mark.parametrize(
    "text",
    [
        "See [our help](https://www.nordnet.example/hilfe) or call [0800 123](tel:08001234567).",
        "Write to [us](mailto:service@nordnet.example)",
        "Plain text (with parens) and [brackets].",
        "Details: <https://www.nordnet.example/status>",
        "[relative](/hilfe/lieferadresse)",
    ],
)
def test_safe_links_and_plain_text_stay_as_they_are(text):
    assert safe_markdown(text) == text
