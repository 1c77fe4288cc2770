"""Word lists behind the hook, reference and emphasis cues, in English and Indonesian.

Only languages listed in ``CUES`` get hook and dangling-reference rules; any
other language is still mined, from punctuation, digits, keywords and audio,
and the result says the rules were not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Whisper often labels Indonesian speech as Malay; the two share these cue words.
LANGUAGE_ALIASES = {"ms": "id", "in": "id"}


@dataclass(frozen=True)
class LanguageCues:
    # Phrases that open a strong moment ("here's the thing"); matched at the start of a sentence.
    openers: tuple[str, ...]
    # Absolute or superlative words that make a bold claim.
    bold_words: frozenset[str]
    # Number words (digits are recognised in every language).
    number_words: frozenset[str]
    # A first word that points back to something said before the clip.
    dangling_starts: frozenset[str]
    # Words that signal emphasis in speech transcripts.
    intensifiers: frozenset[str]
    # Filler removed from the front of a title.
    title_fillers: tuple[str, ...]
    # Vague words YAKE would otherwise pick as key phrases of a chatty episode.
    generic_words: frozenset[str] = frozenset()
    # Superlatives by suffix ("cheapest"), minus the words that only look like one.
    superlative: re.Pattern | None = None
    not_superlative: frozenset[str] = frozenset()

    def is_superlative(self, word: str) -> bool:
        return bool(self.superlative and self.superlative.fullmatch(word) and word not in self.not_superlative)


ENGLISH = LanguageCues(
    openers=(
        "here's the thing", "here is the thing", "the truth is", "the secret", "the biggest mistake",
        "nobody tells you", "no one tells you", "most people", "what if", "imagine", "stop",
        "the problem is", "the key is", "the trick is", "here's why", "here is why", "here's what",
        "i was wrong", "let me tell you", "the real reason", "did you know", "the number one",
        "the one thing", "if you only", "forget", "everyone thinks", "it turns out", "here is the question",
        # advice addressed to the listener
        "before you", "if you want", "don't", "do not", "never", "always", "skip", "try this", "ask yourself",
        "find out", "remember this", "you need to", "you don't need",
        # story openers
        "last year", "last month", "last week i", "the first time", "years ago", "a few years ago", "one day",
        "i remember when", "when i started", "the first spring", "the first year", "i almost",
    ),
    bold_words=frozenset({
        "always", "never", "nobody", "nothing", "best", "worst",
        "biggest", "only", "guaranteed", "secret", "mistake", "wrong", "myth", "truth",
        "impossible", "million", "billion", "doubled", "tripled", "killed", "changed",
    }),
    number_words=frozenset({
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
        "ninety", "hundred", "thousand", "million", "billion", "percent", "half", "double", "triple",
        "dozen", "first", "second", "third",
    }),
    dangling_starts=frozenset({
        "that", "this", "these", "those", "it", "he", "she", "they", "him", "her", "them", "his",
        "and", "but", "so", "because", "which", "also", "then", "or", "plus", "anyway", "yeah",
        "exactly", "right", "mm", "uh", "um",
    }),
    intensifiers=frozenset({
        "absolutely", "really", "incredibly", "totally", "completely", "huge", "insane", "crazy",
        "amazing", "wow", "literally", "seriously", "massive", "extremely",
    }),
    title_fillers=("so", "well", "and", "but", "um", "uh", "you know", "i mean", "okay", "ok", "yeah", "sure", "yes", "right"),
    generic_words=frozenset({
        "thing", "things", "stuff", "kind", "sort", "lot", "lots", "way", "guess", "fine", "day", "mean",
        "know", "talked", "remember", "actually", "basically", "pretty", "good", "great", "back", "today",
        "episode", "show", "guys", "everyone", "welcome", "thanks", "sure", "yes", "okay", "right", "bit",
        "gonna", "wanna", "like", "just", "said", "say", "think", "thought", "moved", "special",
    }),
    superlative=re.compile(r"[a-z]{3,}i?est"),
    not_superlative=frozenset({
        "interest", "honest", "request", "suggest", "latest", "modest", "forest", "guest", "protest", "invest",
        "harvest", "contest", "digest", "manifest", "arrest", "earnest", "conquest", "inquest", "bequest",
        "congest", "ingest", "attest", "detest", "divest", "infest", "molest", "retest", "pretest", "unrest",
        "behest", "tempest", "dearest", "interest", "southwest", "northwest", "midwest", "everest",
    }),
)

INDONESIAN = LanguageCues(
    openers=(
        "intinya", "yang menarik", "rahasianya", "kesalahan terbesar", "banyak orang", "jujur",
        "bayangkan", "tahukah kamu", "tahu nggak", "tahu tidak", "masalahnya", "kuncinya",
        "faktanya", "sebenarnya", "ternyata", "yang paling penting", "coba bayangkan", "berhenti",
        "satu hal", "nomor satu", "kenapa", "bagaimana", "apa yang",
        # advice addressed to the listener
        "jangan", "coba", "sebelum kamu", "sebelum anda", "kalau kamu mau", "kalau anda ingin", "ingat",
        "kamu tidak perlu", "kamu harus",
        # story openers
        "tahun lalu", "bulan lalu", "waktu itu", "dulu saya", "pertama kali", "suatu hari", "ketika saya",
        "waktu saya", "beberapa tahun lalu", "saya hampir",
    ),
    bold_words=frozenset({
        "selalu", "tidak pernah", "nggak pernah", "semua", "semua orang", "tidak ada", "terbaik",
        "terburuk", "terbesar", "termurah", "termahal", "tercepat", "paling", "satu-satunya", "rahasia", "salah", "mitos", "fakta",
        "pasti", "juta", "miliar", "dua kali lipat",
    }),
    number_words=frozenset({
        "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
        "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu", "juta", "miliar",
        "persen", "setengah", "pertama", "kedua", "ketiga",
    }),
    dangling_starts=frozenset({
        "itu", "ini", "dia", "mereka", "beliau", "nya", "jadi", "dan", "tapi", "tetapi", "karena",
        "yang", "juga", "lalu", "terus", "makanya", "nah", "iya", "ya", "kayak",
    }),
    intensifiers=frozenset({
        "banget", "sekali", "sangat", "luar", "biasa", "gila", "benar-benar", "bener-bener", "wow",
        "parah", "keren",
    }),
    title_fillers=("jadi", "nah", "dan", "tapi", "ya", "oke", "eh", "terus"),
    generic_words=frozenset({
        "hal", "gitu", "begitu", "kayak", "aja", "saja", "sih", "deh", "dong", "kok", "banget", "oke",
        "hari", "episode", "teman-teman", "kali", "bilang", "tadi", "pokoknya", "apa", "gimana",
    }),
)

CUES: dict[str, LanguageCues] = {"en": ENGLISH, "id": INDONESIAN}

# Whisper writes laughter and applause as bracketed or parenthesised tags, or as "haha".
LAUGHTER = re.compile(r"[\[(](?:laugh\w*|chuckl\w*|tertawa|ketawa)[\])]|\b(?:ha){2,}\b|\b(?:wk){2,}\b", re.I)
DIGITS = re.compile(r"\d")
TOKEN = re.compile(r"[\w'’-]+", re.UNICODE)


def cues_for(language: str | None) -> LanguageCues | None:
    """The cue lists for a Whisper language code, or None when we have none."""
    code = (language or "").lower().split("-")[0]
    return CUES.get(LANGUAGE_ALIASES.get(code, code))


def tokens(text: str) -> list[str]:
    return [t.lower().replace("’", "'") for t in TOKEN.findall(text)]
