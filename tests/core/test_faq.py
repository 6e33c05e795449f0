"""The FAQ texts the Rasa side reads without the knowledge base (core/faq.py)."""

from core.faq import texts_by_language
from core.language import neutral_words


def test_yaml_and_csv_entries_are_read_per_language(tmp_path):
    (tmp_path / "de.yml").write_text(
        "language: de\nentries:\n  - id: router\n    questions: [Mein Router blinkt rot]\n"
        "    answer: Starten Sie den Router neu.\n  - id: mixed\n    language: en\n"
        "    questions: [My router blinks red]\n    answer: Restart the router.\n",
        encoding="utf-8",
    )
    (tmp_path / "more.csv").write_text(
        "id,question,answer,language\nesim,Wie aktiviere ich die eSIM?,In der App unter eSIM.,de\n", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not an FAQ source", encoding="utf-8")

    texts = texts_by_language(tmp_path)

    assert texts["de"] == [
        "Mein Router blinkt rot",
        "Starten Sie den Router neu.",
        "Wie aktiviere ich die eSIM?",
        "In der App unter eSIM.",
    ]
    assert texts["en"] == ["My router blinks red", "Restart the router."]
    assert {"router"} <= neutral_words(texts)


def test_broken_sources_are_skipped_not_fatal(tmp_path):
    (tmp_path / "broken.yml").write_text("entries: [unclosed", encoding="utf-8")
    (tmp_path / "list.yml").write_text("- just\n- a list\n", encoding="utf-8")
    (tmp_path / "good.yaml").write_text(
        "entries:\n  - {id: a, language: en, questions: [Hello there], answer: Hi}\n  - not an entry\n",
        encoding="utf-8",
    )

    assert texts_by_language(tmp_path) == {"en": ["Hello there", "Hi"]}
    assert texts_by_language(tmp_path / "missing") == {}


def test_a_single_file_path_is_read():
    texts = texts_by_language("data/faq/de.yml")
    assert set(texts) == {"de"} and len(texts["de"]) > 50
