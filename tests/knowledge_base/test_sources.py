"""FAQ sources: YAML, CSV, folders, and the errors broken sources produce."""

import pytest

from knowledge_base import FAQError, load_entries
from knowledge_base.sources import relative_checksums


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_folder_merges_yaml_files_with_file_language_and_overrides(tmp_path):
    write(
        tmp_path / "a.yml",
        """\
language: en
entries:
  - id: x
    questions: [Q one, Q two]
    answer: A
    tags: [t]
    url: https://example.com/x
  - id: x
    language: de
    questions: Frage
    answer: Antwort
""",
    )
    write(tmp_path / "b.yaml", "language: de\nentries:\n  - id: y\n    questions: [F]\n    answer: B\n")
    entries = load_entries(tmp_path)
    assert [(e.id, e.language, e.questions) for e in entries] == [
        ("x", "en", ["Q one", "Q two"]),
        ("x", "de", ["Frage"]),
        ("y", "de", ["F"]),
    ]
    assert entries[0].tags == ["t"] and entries[0].url == "https://example.com/x"
    assert entries[0].line == 3 and entries[0].source.endswith("a.yml")


def test_csv_rows_with_same_id_and_language_merge(tmp_path):
    write(
        tmp_path / "faq.csv",
        (
            "id,question,answer,language,tags,url\n"
            "pay,How can I pay?,By card or invoice.,en,billing;payment,\n"
            "pay,Which payment methods?,,en,,\n"
            "pay,Wie kann ich bezahlen?,Per Karte oder Rechnung.,de,,\n"
            "ship,How long is shipping?,Two days.,,,https://example.com/ship\n"
        ),
    )
    entries = {e.key: e for e in load_entries(tmp_path / "faq.csv")}
    assert entries[("pay", "en")].questions == ["How can I pay?", "Which payment methods?"]
    assert entries[("pay", "en")].tags == ["billing", "payment"]
    assert entries[("pay", "de")].answer == "Per Karte oder Rechnung."
    assert entries[("ship", "en")].url == "https://example.com/ship"


def test_all_problems_are_reported_together_with_file_entry_and_line(tmp_path):
    faq = write(
        tmp_path / "broken.yml",
        """\
language: en
entries:
  - id: no-answer
    questions: ["Where?"]
  - id: no-questions
    questions: []
    answer: A
  - id: klingon
    language: tlh
    questions: [nuqneH]
    answer: A
  - id: twice
    questions: [One]
    answer: A
  - id: twice
    questions: [Two]
    answer: B
""",
    )
    with pytest.raises(FAQError) as caught:
        load_entries(faq)
    problems = caught.value.problems
    assert len(problems) == 4
    text = str(caught.value)
    assert f"{faq}:3: entry 'no-answer': missing or empty answer" in text
    assert f"{faq}:5: entry 'no-questions': empty or missing questions" in text
    assert f"{faq}:8: entry 'klingon': unknown language 'tlh'" in text
    assert f"{faq}:15: entry 'twice': duplicate id in language 'en' (first defined at {faq}:12)" in text


def test_bad_yaml_names_file_and_line(tmp_path):
    faq = write(tmp_path / "bad.yml", "language: en\nentries:\n  - id: a\n    questions: [unclosed\n    answer: x\n")
    with pytest.raises(FAQError, match=r"bad\.yml:\d+: bad YAML"):
        load_entries(faq)


def test_duplicate_id_across_files_and_csv_problems(tmp_path):
    write(tmp_path / "a.yml", "language: en\nentries:\n  - id: a\n    questions: [Q]\n    answer: A\n")
    write(tmp_path / "b.csv", "id,question,answer,language\na,Other Q,Other A,en\nb,Q,,en\nc,Q,A,fr\n")
    with pytest.raises(FAQError) as caught:
        load_entries(tmp_path)
    text = str(caught.value)
    assert "b.csv:2: entry 'a': duplicate id in language 'en'" in text
    assert "b.csv:3: entry 'b': missing or empty answer" in text
    assert "b.csv:4: entry 'c': unknown language 'fr'" in text


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(FAQError, match="no such FAQ file or folder"):
        load_entries(tmp_path / "nope")
    with pytest.raises(FAQError, match="no FAQ files"):
        load_entries(tmp_path)


def test_unknown_field_is_a_problem(tmp_path):
    faq = write(tmp_path / "typo.yml", "language: en\nentries:\n  - id: a\n    questions: [Q]\n    anwser: A\n")
    with pytest.raises(FAQError) as caught:
        load_entries(faq)
    assert "unknown field(s) 'anwser'" in str(caught.value)
    assert "missing or empty answer" in str(caught.value)


def test_checksums_are_relative_to_the_folder(tmp_path):
    write(tmp_path / "a.yml", "language: en\nentries: []\n")
    assert list(relative_checksums(tmp_path)) == ["a.yml"]


def test_ids_yaml_reads_as_booleans_or_numbers_are_refused_with_file_and_line(tmp_path):
    # `id: yes` would silently become the entry True, `id: 42` the entry 42: analytics and eval labels break.
    write(
        tmp_path / "faq.yml",
        """\
language: en
entries:
  - id: yes
    questions: [Q]
    answer: A
  - id: 42
    questions: [R]
    answer: B
  - id: "no"
    questions: [S]
    answer: C
""",
    )
    with pytest.raises(FAQError) as caught:
        load_entries(tmp_path)
    problems = caught.value.problems
    assert len(problems) == 2
    assert f"{tmp_path / 'faq.yml'}:3: entry #1: id True is read as yes/no" in problems[0]
    assert f"{tmp_path / 'faq.yml'}:6: entry #2: id 42 is read as a number" in problems[1]
    assert all("quotes" in p for p in problems)
