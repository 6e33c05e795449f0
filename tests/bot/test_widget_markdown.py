"""Line breaks in bot and agent text survive the widget's Markdown as paragraphs and lists."""

from __future__ import annotations

from markdown_it import MarkdownIt

from bot.widget_markdown import for_widget, paragraphs


def link_targets(text: str) -> list[str]:
    """Links as a lenient renderer (the widget's, with no URL filter) would make them."""
    parser = MarkdownIt("commonmark")
    parser.validateLink = lambda url: True
    return [c.attrGet("href") for t in parser.parse(text) for c in (t.children or []) if c.type == "link_open"]


def blocks(text: str) -> list[str]:
    """The block elements a CommonMark renderer (like the widget's) makes of ``text``."""
    return [t.tag for t in MarkdownIt("commonmark").parse(text) if t.nesting == 1 and t.level == 0]


def test_each_line_of_an_answer_is_its_own_paragraph():
    answer = "Wir erstatten den Betrag innerhalb von 14 Tagen.\nDas Geld geht über die Zahlungsart zurück.\nBei Fragen melden Sie sich."
    assert blocks(answer) == ["p"]  # what the widget showed before: one run-on paragraph
    assert blocks(paragraphs(answer)) == ["p", "p", "p"]
    assert paragraphs(answer).split("\n\n") == answer.split("\n")


def test_a_list_stays_one_list_and_the_text_after_it_does_not_join_its_last_item():
    answer = (
        "Wir versenden mit DHL:\n- Standard: 2–3 Werktage.\n- Express: am nächsten Werktag.\n"
        "Ist ein Artikel nicht auf Lager, steht das Datum auf der Produktseite."
    )
    assert blocks(answer) == ["p", "ul"]  # the last sentence was glued into "Express"
    converted = paragraphs(answer)
    assert blocks(converted) == ["p", "ul", "p"]
    assert "- Standard: 2–3 Werktage.\n- Express: am nächsten Werktag." in converted  # a tight list


def test_numbered_steps_with_indented_continuation_and_blank_lines():
    answer = "So geht's:\n1. Router ausstecken.\n   30 Sekunden warten.\n2. Wieder einstecken.\n\n\n\nFertig."
    assert (
        paragraphs(answer)
        == "So geht's:\n\n1. Router ausstecken.\n   30 Sekunden warten.\n2. Wieder einstecken.\n\nFertig."
    )
    assert blocks(paragraphs(answer)) == ["p", "ol", "p"]


def test_plain_and_empty_texts_are_unchanged():
    assert paragraphs("Hallo!") == "Hallo!"
    assert paragraphs("") == paragraphs(None) == ""
    assert paragraphs("Erster Absatz.\n\nZweiter Absatz.") == "Erster Absatz.\n\nZweiter Absatz."


def test_a_new_paragraph_cannot_smuggle_in_a_link_definition():
    # "[x][1]\n[1]: javascript:…" is harmless text in CommonMark (a definition cannot interrupt a
    # paragraph) but a real link once the line becomes its own paragraph: the link check must see that.
    text = "[Hier klicken][1]\n[1]: data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
    assert link_targets(text) == []
    assert link_targets(paragraphs(text)) == ["data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="]
    assert link_targets(for_widget(text)) == []
    assert "Hier klicken" in for_widget(text)
