"""Text read as people read it: written forms become the words a speaker says."""

from __future__ import annotations

import pytest

from akool_mcp.speech.numbers import cardinal, ordinal, year
from akool_mcp.speech.reading import read_aloud
from akool_mcp.speech.sentences import PAUSE_PARAGRAPH_S, PAUSE_QUESTION_S, PAUSE_SENTENCE_S, split_sentences


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("$1,250", "one thousand two hundred fifty dollars"),
        ("It costs $9.99.", "It costs nine dollars and ninety-nine cents."),
        ("$1", "one dollar"),
        ("$0.50", "fifty cents"),
        ("We raised $3.2 billion.", "We raised three point two billion dollars."),
        ("£5.50 or €1", "five pounds and fifty pence or one euro"),
        ("1,000,000 people", "one million people"),
        ("pi is 3.14", "pi is three point one four"),
        ("It was -5 degrees.", "It was minus five degrees."),
        ("About 50% of them", "About fifty percent of them"),
        ("The 1st, 2nd, 3rd and 22nd place", "The first, second, third and twenty-second place"),
        ("in 1999 and 2024", "in nineteen ninety-nine and twenty twenty-four"),
        ("in 2005", "in two thousand five"),
        ("the 1990s", "the nineteen nineties"),
        ("on March 5th, 2024", "on March fifth, twenty twenty-four"),
        ("on 2024-03-05", "on March fifth, twenty twenty-four"),
        ("on 12/25/2023", "on December twenty-fifth, twenty twenty-three"),
        ("on 5 March", "on the fifth of March"),
        ("at 7:30 pm", "at seven thirty PM"),
        ("at 9:05", "at nine oh five"),
        ("at 9am", "at nine AM"),
        ("at 10 a.m.", "at ten AM."),
        ("at 10:15 a.m. sharp. Then at 3 p.m. We", "at ten fifteen AM sharp. Then at three PM. We"),
        ("5 km and 1 km", "five kilometers and one kilometer"),
        ("20°C", "twenty degrees Celsius"),
        ("a 10 GB file", "a ten gigabytes file"),
        ("pages 10-20", "pages ten to twenty"),
        ("Dr. Smith, e.g. on Baker St. or St. Paul", "Doctor Smith, for example on Baker Street or Saint Paul"),
        ("Visit https://www.example.com/docs today", "Visit example dot com slash docs today"),
        ("see example.org", "see example dot org"),
        ("mail jane.doe@example.org", "mail jane dot doe at example dot org"),
        ("Tom & Jerry", "Tom and Jerry"),
        ("issue #3", "issue number three"),
    ],
)
def test_written_forms_are_read_as_words(written: str, spoken: str) -> None:
    assert read_aloud(written) == spoken


def test_numbers_in_words_at_every_scale() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(15) == "fifteen"
    assert cardinal(101) == "one hundred one"
    assert cardinal(2_000_017) == "two million seventeen"
    assert cardinal(10**15) == "one zero zero zero zero zero zero zero zero zero zero zero zero zero zero zero"
    assert ordinal(12) == "twelfth" and ordinal(40) == "fortieth" and ordinal(101) == "one hundred first"
    assert year(1905) == "nineteen oh five" and year(1900) == "nineteen hundred" and year(2000) == "two thousand"


def test_plain_words_pass_through_unchanged() -> None:
    text = "Hello there, this is an ordinary sentence with no numbers in it."
    assert read_aloud(text) == text


def test_sentences_get_natural_pauses_and_titles_do_not_end_them() -> None:
    sentences = split_sentences("Hello there. Dr. Smith is here! Is it you?\n\nA new paragraph. The end.")
    assert [s.text for s in sentences] == [
        "Hello there.",
        "Dr. Smith is here!",
        "Is it you?",
        "A new paragraph.",
        "The end.",
    ]
    assert [s.pause_after for s in sentences] == [
        PAUSE_SENTENCE_S,
        PAUSE_QUESTION_S,
        PAUSE_PARAGRAPH_S,
        PAUSE_SENTENCE_S,
        0.0,
    ]


def test_a_spoken_price_is_heard_as_its_words() -> None:
    from akool_mcp.speech import synthesize
    from tests.speech.listening import recognise, word_errors

    speech = synthesize("It costs $1,250.", "en-US-female-1")
    wrong, count = word_errors("it costs one thousand two hundred fifty dollars", recognise(speech.samples, 24_000))
    assert wrong / count <= 0.25


def test_am_and_pm_are_spoken_as_their_letters_not_as_the_article() -> None:
    from akool_mcp.speech.neural import phonemize

    # misaki symbols: A is "ay" (eɪ), ɐ the article's "uh"; "A M" as two words came out "uh em".
    assert "Aˈɛm" in phonemize(read_aloud("Call us at 9am."), british=False)
    assert "pˌiːˈɛm" in phonemize(read_aloud("It starts at 7:30 p.m."), british=True)  # British: a long i
    assert "ɐ ˈɛm" not in phonemize(read_aloud("at 9 AM or 10 a.m."), british=False)
