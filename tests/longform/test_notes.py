"""Show notes from sentences, key phrases and highlights: summary, takeaways, quotes, links, names."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.highlights.timeline import Sentence, TimedWord
from pipeline.longform.notes import ChapterLine, build_notes, links_in, names_in, summary


def sentence(index: int, start: float, text: str, speaker: str = "") -> Sentence:
    words = tuple(TimedWord(w, start + k * 0.4, start + k * 0.4 + 0.3, speaker=speaker) for k, w in enumerate(text.split()))
    return Sentence(index, words, terminal=text.endswith((".", "?", "!")))


SENTENCES = [
    sentence(0, 0.0, "Welcome back to the show, it is good to have you here with us today."),
    sentence(1, 10.0, "Compost is the cheapest way to feed tomatoes on a rooftop garden all summer long."),
    sentence(2, 20.0, "My neighbour Budi Santoso keeps his buckets on the roof of the old bakery."),
    sentence(3, 30.0, "Do you water every day?"),
    sentence(4, 40.0, "Rain water in buckets keeps the tomatoes alive when July gets very hot and dry."),
    sentence(5, 50.0, "You can read the guide at gardenshow.com/compost before you start."),
    sentence(6, 60.0, "Ask Budi Santoso about the bakery roof, he loves talking about it."),
    sentence(7, 70.0, "Yes."),
    sentence(8, 80.0, "Next week Rina talks about seeds and Rina brings her whole seed library along."),
]
KEYWORDS = ["tomatoes", "compost", "rain water", "buckets", "rooftop"]


def test_the_summary_takes_the_densest_sentences_one_per_part_in_spoken_order():
    text = summary(SENTENCES, KEYWORDS, part_starts=[0.0, 35.0])
    assert text.startswith("Compost is the cheapest way") and "Rain water in buckets" in text
    assert text.index("Compost") < text.index("Rain water")
    assert "Do you water" not in text and "Yes." not in text  # no questions, no fragments
    assert summary(SENTENCES, KEYWORDS, part_starts=[0.0]).count(".") == 1  # one part: one sentence


def test_links_and_names_come_from_what_was_said():
    text = " ".join(s.text for s in SENTENCES) + " Or go to https://example.org/seeds."
    assert links_in(text) == ("https://gardenshow.com/compost", "https://example.org/seeds")
    names = names_in(SENTENCES, speakers={"Dinda"})
    assert names[0] == "Budi Santoso" and "Rina" in names
    assert not {"Welcome", "Compost", "July", "Yes", "Next"} & set(names)  # sentence starts and months are not names
    assert "Budi Santoso" not in names_in(SENTENCES, speakers={"Budi Santoso"})


def test_notes_credit_named_speakers_and_say_what_is_missing():
    highlights = [SimpleNamespace(title="Compost beats fertiliser", quote="Compost is the cheapest way.", start=10.0,
                                  quote_by="S2"),
                  SimpleNamespace(title="Rain water", quote="Rain water keeps them alive.", start=40.0, quote_by="S1")]
    notes = build_notes("Garden show 12", SENTENCES, KEYWORDS, highlights, [ChapterLine(0.0, "Compost")],
                        {"S1": "Dinda", "S2": ""}, notes=("no chapters: too short",))
    assert notes.takeaways == ("Compost beats fertiliser", "Rain water")
    assert [(q.start, q.by) for q in notes.quotes] == [(10.0, ""), (40.0, "Dinda")]
    assert notes.speakers == ("Dinda",) and notes.notes == ("no chapters: too short",)
    assert notes.links == ("https://gardenshow.com/compost",)
