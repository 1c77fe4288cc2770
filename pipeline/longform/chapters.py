"""Chapters: an episode's transcript cut into topics, each with a short title.

The method is TextTiling (Hearst, 1997) over the timeline's sentences. Every sentence start is a
possible boundary; at each one the content words spoken in the ``window_seconds`` before it are
compared with those spoken in the ``window_seconds`` after it (cosine of their counts). Where the
talk changes subject the two sides share few words, so the similarity curve dips; a dip's *depth*
is how far the curve climbs on both sides of it. Pauses and speaker turns are hints: a sentence
that starts after a long pause, or as the other speaker takes over, scores a little more, so of two
nearby places the boundary goes to the one a listener would hear as a break. The deepest places
become boundaries, as many as the dips that stand out from the rest, within bounds set by the
episode's length, never two closer than a minimum chapter length; each is then moved to the best
sentence within half a minute by a shorter, unsmoothed comparison (smoothing finds dips but blurs
them). Titles are each chapter's own key phrases (YAKE), preferring phrases said mostly in that
chapter.

Same transcript and options, same chapters: nothing here is random and every tie is broken by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from pipeline.access.identity import Identity
from pipeline.access.permissions import visible_episode
from pipeline.core.errors import ConfigError, LongFormError, NotFoundError
from pipeline.highlights.features import stopwords as yake_stopwords  # YAKE's per-language lists, cached
from pipeline.highlights.features import episode_keywords
from pipeline.highlights.language import cues_for, tokens
from pipeline.highlights.options import HighlightOptions
from pipeline.highlights.select import speakers_by_time
from pipeline.highlights.store import transcript_result
from pipeline.highlights.timeline import Sentence, build_timeline
from pipeline.store.episodes import latest_transcript
from pipeline.transcribe.base import TranscriptResult

# YouTube shows no chapter shorter than this (https://support.google.com/youtube/answer/9884579).
YOUTUBE_MIN_CHAPTER_SECONDS = 10.0
# Words kept out of titles' capitals in Title Case.
SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "vs"})


@dataclass(frozen=True)
class ChapterOptions:
    # An episode shorter than this gets no chapters (seconds): two chapters of a minute fit in it.
    min_episode_seconds: float = 120.0
    # How many chapters an hour gets, at least and at most; the bounds scale with the episode's length
    # (an hour: 4 to 12, one chapter per 5 to 15 minutes).
    min_per_hour: float = 4.0
    max_per_hour: float = 12.0
    # Every episode long enough for chapters gets at least this many (a 10-minute episode: 2).
    min_chapters: int = 2
    # No chapter is shorter than this (seconds) …
    min_chapter_seconds: float = 60.0
    # … nor shorter than this share of the average chapter at the most chapters allowed (an hour: 12
    # chapters of 5 minutes, so none under 2.5 minutes); a short topic is folded into its neighbour.
    min_chapter_share: float = 0.5
    # Seconds of speech on each side of a possible boundary whose words are compared (about 300 words).
    # On the tuned generated episodes 90 to 150 s all found 96-98 % of the topic changes once smoothed by
    # 30 s or more; 120 s sits in the middle.
    window_seconds: float = 120.0
    # The similarity at a possible boundary is the mean over those within this many seconds of it: without it
    # one sentence's words make dips everywhere and no depth stands out (unsmoothed: 0-27 % found; 10 s:
    # 39-93 %; 30 to 45 s: 96-98 %).
    smoothing_seconds: float = 40.0
    # A dip becomes a boundary when its depth is at least mean + depth_cutoff × standard deviation of all
    # dips' depths (TextTiling's liberal cut-off is -0.5) …
    depth_cutoff: float = -0.5
    # … and where the words on the two sides overlap less than this share of the episode's median overlap:
    # what keeps a long topic in one chapter. Measured at a topic change: 0.1-0.2 of the median's 0.3-0.5;
    # inside a topic, a subtopic wobble up to 0.4. Tuned: 0.6 lost a boundary (recall 90 %), 0.75 added one
    # (precision 96 %), 0.65 neither; the depth cut-off alone did not change the count.
    dip_share: float = 0.65
    # Each boundary is then moved to the best place within ``refine_seconds`` by the similarity of the words in
    # ``refine_window`` seconds on each side (unsmoothed), plus the hints: the smoothing that makes dips stand
    # out also blurs where exactly they are. 0 keeps the boundaries where the smoothed curve put them.
    # Tuned: Pk 0.10 without, 0.036 with 30 s and 60 s (20 s or a 30-s window: worse, the short curve is noisy).
    refine_seconds: float = 30.0
    refine_window: float = 60.0
    # A pause at least this long (seconds) before a sentence is a hint that a new topic starts there.
    long_pause: float = 1.2
    # What the hints add to a depth and to the refining score (depths run 0 to 2; a topic change measures
    # about 0.6 to 1.4). Tuned Pk: no hints 0.043, these 0.036; a pause worth 0.2 pulled boundaries onto
    # pauses inside topics (0.09).
    pause_bonus: float = 0.05
    turn_bonus: float = 0.03
    # A title is at most this many characters (YouTube cuts a chapter title in the player near 50).
    title_max_chars: int = 60
    # Key phrases YAKE gives for each chapter, from which its title is picked.
    title_candidates: int = 8
    # A chapter is credited to one speaker when that speaker says at least this share of its words.
    speaker_share: float = 0.7

    def __post_init__(self) -> None:
        if self.min_chapter_seconds < YOUTUBE_MIN_CHAPTER_SECONDS:
            raise ConfigError(f"min_chapter_seconds must be at least {YOUTUBE_MIN_CHAPTER_SECONDS:.0f} "
                              f"(YouTube's shortest chapter), not {self.min_chapter_seconds}")
        if self.min_chapters < 1:
            raise ConfigError(f"min_chapters must be at least 1, not {self.min_chapters}")
        if self.min_episode_seconds < self.min_chapters * self.min_chapter_seconds:
            raise ConfigError(f"min_episode_seconds ({self.min_episode_seconds}) must leave room for min_chapters "
                              f"({self.min_chapters}) of min_chapter_seconds ({self.min_chapter_seconds})")
        if not 0 < self.min_per_hour <= self.max_per_hour:
            raise ConfigError(f"need 0 < min_per_hour ≤ max_per_hour, not {self.min_per_hour} and "
                              f"{self.max_per_hour}")
        if not 0 <= self.min_chapter_share < 1:
            raise ConfigError(f"min_chapter_share must be in [0, 1), not {self.min_chapter_share}")
        if self.window_seconds < 10 or self.smoothing_seconds < 0 or self.long_pause <= 0:
            raise ConfigError("window_seconds ≥ 10, smoothing_seconds ≥ 0 and long_pause > 0")
        if not 0 < self.dip_share <= 1:
            raise ConfigError(f"dip_share must be in (0, 1], not {self.dip_share}")
        if self.refine_seconds < 0 or self.refine_window < 10:
            raise ConfigError("refine_seconds ≥ 0 and refine_window ≥ 10")
        if self.pause_bonus < 0 or self.turn_bonus < 0:
            raise ConfigError("pause_bonus and turn_bonus must not be negative")
        if self.title_max_chars < 20 or self.title_candidates < 1:
            raise ConfigError("title_max_chars ≥ 20 and title_candidates ≥ 1")
        if not 0.5 <= self.speaker_share <= 1:
            raise ConfigError(f"speaker_share must be between 0.5 and 1, not {self.speaker_share}")

    def count_bounds(self, duration: float) -> tuple[int, int]:
        """The fewest and most chapters an episode of ``duration`` seconds gets."""
        hours = duration / 3600
        most = max(self.min_chapters, round(hours * self.max_per_hour))
        least = min(most, max(self.min_chapters, round(hours * self.min_per_hour)))
        return least, most

    def shortest_chapter(self, duration: float) -> float:
        """Seconds: no chapter is shorter."""
        return max(self.min_chapter_seconds, self.min_chapter_share * duration / self.count_bounds(duration)[1])


@dataclass(frozen=True)
class Chapter:
    index: int  # 0 for the first
    start: float  # seconds; 0.0 for the first, else where its first sentence starts
    end: float  # where the next chapter starts (the episode's end for the last)
    title: str
    key_phrases: tuple[str, ...]
    first_sentence: int  # index in the episode's timeline
    # The name of the speaker who says most of it, when one named speaker does (``speaker_share``).
    speaker: str | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start


def timestamp(seconds: float) -> str:
    """0:00, 4:12, 1:02:03 (whole seconds, rounded down)."""
    whole = int(max(seconds, 0.0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# --- the library entry point -------------------------------------------------------------------------

def episode_chapters(session: Session, identity: Identity, episode_id: int, options: ChapterOptions = ChapterOptions(),
                     client_slug: str | None = None) -> list[Chapter]:
    """The chapters of an episode ``identity`` may see (and that is ``client_slug``'s, when given), from its
    latest transcript; chapters mostly spoken by one named speaker carry the name."""
    episode = visible_episode(session, identity, episode_id)
    if client_slug and episode.client.slug != client_slug:
        raise NotFoundError(f"no episode {episode_id} for client {client_slug}")
    row = latest_transcript(session, episode.id)
    if row is None:
        raise LongFormError("has no transcript yet: run `castmill process` first", source=f"episode {episode_id}")
    return make_chapters(transcript_result(row), options, speaker_names=dict(episode.speaker_names or {}),
                         name=f"episode {episode_id}")


def make_chapters(transcript: TranscriptResult, options: ChapterOptions = ChapterOptions(), *,
                  speaker_names: dict[str, str] | None = None, name: str = "the transcript") -> list[Chapter]:
    """Chapters of one transcript; ``name`` is how errors call it ("episode 12")."""
    timeline = build_timeline(transcript, HighlightOptions())
    if not timeline.sentences:
        raise LongFormError(f"{name} has no words: there is nothing to make chapters from")
    duration = max(timeline.duration, timeline.sentences[-1].end)
    if duration < options.min_episode_seconds:
        raise LongFormError(f"{name} is {timestamp(duration)} long: chapters need at least "
                             f"{_spoken_length(options.min_episode_seconds)}")
    sentences = timeline.sentences
    firsts = boundary_sentences(sentences, timeline.language, options, duration)
    starts = [0] + firsts
    ends = firsts + [len(sentences)]
    titles = chapter_titles([sentences[a:b] for a, b in zip(starts, ends)], timeline.language, options)
    times = [0.0] + [round(sentences[i].start, 3) for i in firsts] + [round(duration, 3)]
    return [Chapter(k, times[k], times[k + 1], titles[k][0], titles[k][1], starts[k],
                    _speaker(sentences[starts[k]:ends[k]], speaker_names or {}, options.speaker_share))
            for k in range(len(starts))]


def _spoken_length(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minutes" if seconds % 60 == 0 else f"{seconds:g} seconds"


# --- where the topic changes ---------------------------------------------------------------------------

def boundary_sentences(sentences: list[Sentence], language: str, options: ChapterOptions,
                       duration: float) -> list[int]:
    """Indexes of the sentences that open chapters 2, 3 …, in order."""
    gaps = [i for i in range(1, len(sentences)) if not sentences[i].continues_previous]
    if not gaps:
        return []
    counts = term_counts(sentences, language)
    times = np.array([sentences[i].start for i in gaps])
    similarity = _smooth(cohesion(counts, sentences, gaps, options.window_seconds), times, options.smoothing_seconds)
    depth = depth_scores(similarity)
    score = depth + hint_scores(sentences, gaps, options)
    least, most = options.count_bounds(duration)
    shortest = options.shortest_chapter(duration)
    chosen = _pick(score, clear_dips(similarity, depth, options), times, duration, shortest, least - 1, most - 1)
    if options.refine_seconds:
        fine = hint_scores(sentences, gaps, options) - cohesion(counts, sentences, gaps, options.refine_window)
        chosen = _refine(sorted(chosen), fine, times, duration, shortest, options.refine_seconds)
    return sorted(gaps[k] for k in chosen)


def _refine(chosen: list[int], fine: np.ndarray, times: np.ndarray, duration: float, shortest: float,
            reach: float) -> list[int]:
    """Each boundary moved to the best place within ``reach`` seconds by the short-window score, keeping every
    chapter at least ``shortest`` long."""
    out: list[int] = []
    for n, k in enumerate(chosen):
        earliest = max(times[k] - reach, (times[out[-1]] if out else 0.0) + shortest)
        latest = min(times[k] + reach, (times[chosen[n + 1]] if n + 1 < len(chosen) else duration) - shortest)
        nearby = [j for j in range(len(times)) if earliest <= times[j] <= latest] or [k]
        out.append(max(nearby, key=lambda j: (fine[j], -abs(j - k))))
    return out


def term_counts(sentences: list[Sentence], language: str) -> np.ndarray:
    """Sentences × content words: how often each sentence says each word (stop words left out)."""
    stop = _stop_words(language)
    vocabulary: dict[str, int] = {}
    rows: list[list[int]] = []
    for sentence in sentences:
        terms = [t for t in tokens(sentence.text) if len(t) > 2 and t not in stop and not t[0].isdigit()]
        rows.append([vocabulary.setdefault(term, len(vocabulary)) for term in terms])
    counts = np.zeros((len(sentences), max(len(vocabulary), 1)), dtype=np.float32)
    for i, row in enumerate(rows):
        np.add.at(counts[i], row, 1.0)
    return counts


def _stop_words(language: str) -> frozenset[str]:
    code = (language or "en").split("-")[0].lower()
    cues = cues_for(code)
    extra = (cues.dangling_starts | cues.intensifiers | cues.generic_words | set(cues.title_fillers)) if cues else set()
    return yake_stopwords(code) | frozenset(extra)


_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", ""))


def _stem(word: str) -> str:
    """A light English stemmer (clients → client, birds → bird), so a title does not say one word twice. (Counting
    stems instead of words for the similarity measured no better on the tuned episodes.)"""
    word = word.removesuffix("'s")
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # runn → run
    return word


def cohesion(counts: np.ndarray, sentences: list[Sentence], gaps: list[int], window: float) -> np.ndarray:
    """At each gap: the cosine between the words of the ``window`` seconds before it and after it."""
    cumulative = np.vstack([np.zeros((1, counts.shape[1])), np.cumsum(counts, axis=0, dtype=np.float64)])
    starts = np.array([s.start for s in sentences])
    at = np.array(gaps)
    lo = np.searchsorted(starts, starts[at] - window, side="left")
    hi = np.searchsorted(starts, starts[at] + window, side="left")
    left = cumulative[at] - cumulative[lo]
    right = cumulative[hi] - cumulative[at]
    norms = np.sqrt((left * left).sum(axis=1) * (right * right).sum(axis=1))
    return np.divide((left * right).sum(axis=1), norms, out=np.zeros(len(gaps)), where=norms > 0)


def _smooth(values: np.ndarray, times: np.ndarray, half: float) -> np.ndarray:
    """Each value replaced by the mean of those within ``half`` seconds of it."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.searchsorted(times, times - half, side="left")
    hi = np.searchsorted(times, times + half, side="right")
    return (cumulative[hi] - cumulative[lo]) / (hi - lo)


def depth_scores(similarity: np.ndarray) -> np.ndarray:
    """TextTiling's depth: how far the curve rises from each point to the nearest peak on its left and right."""
    n = len(similarity)
    left_peak, right_peak = similarity.copy(), similarity.copy()
    for i in range(1, n):
        if similarity[i - 1] >= similarity[i]:
            left_peak[i] = left_peak[i - 1]
    for i in range(n - 2, -1, -1):
        if similarity[i + 1] >= similarity[i]:
            right_peak[i] = right_peak[i + 1]
    return (left_peak - similarity) + (right_peak - similarity)


def clear_dips(similarity: np.ndarray, depth: np.ndarray, options: ChapterOptions) -> np.ndarray:
    """The dips that stand out: local minima whose depth is at least mean + ``depth_cutoff`` × standard deviation
    of all dips' depths, and where the two sides share less than ``dip_share`` of the episode's median
    similarity (a shallow wobble high on the curve is a subtopic, not a new topic)."""
    n = len(similarity)
    previous = np.concatenate([[np.inf], similarity[:-1]])
    following = np.concatenate([similarity[1:], [np.inf]])
    valley = (similarity <= previous) & (similarity <= following) & (depth > 0)
    if n < 3 or not valley.any():
        return valley
    depths = depth[valley]
    threshold = depths.mean() + options.depth_cutoff * depths.std()
    return valley & (depth >= threshold) & (similarity <= options.dip_share * float(np.median(similarity)))


def hint_scores(sentences: list[Sentence], gaps: list[int], options: ChapterOptions) -> np.ndarray:
    """What a long pause before a sentence, and a change of speaker at it, add to its score."""
    out = np.zeros(len(gaps))
    for k, i in enumerate(gaps):
        before, here = sentences[i - 1], sentences[i]
        if here.start - before.end >= options.long_pause:
            out[k] += options.pause_bonus
        if before.speaker and here.speaker and before.speaker != here.speaker:
            out[k] += options.turn_bonus
    return out


def _pick(score: np.ndarray, deep: np.ndarray, times: np.ndarray, duration: float, shortest: float,
          least: int, most: int) -> list[int]:
    """Greedy, best score first: gaps at least ``shortest`` seconds from the start, the end and each other;
    the deep ones while fewer than ``most``, then the next best until there are ``least``."""
    order = sorted(range(len(score)), key=lambda k: (-score[k], k))
    chosen: list[int] = []

    def fits(k: int) -> bool:
        t = times[k]
        return (t >= shortest and duration - t >= shortest
                and all(abs(t - times[c]) >= shortest for c in chosen))

    for want_deep in (True, False):
        for k in order:
            if len(chosen) >= (most if want_deep else least):
                break
            if (deep[k] or not want_deep) and k not in chosen and fits(k):
                chosen.append(k)
    return chosen


# --- titles --------------------------------------------------------------------------------------------

def chapter_titles(chapters: list[list[Sentence]], language: str,
                   options: ChapterOptions) -> list[tuple[str, tuple[str, ...]]]:
    """(title, key phrases) of each chapter: its own key phrases, those said mostly in it first; no two titles
    alike."""
    texts = [" ".join(s.text for s in sentences) for sentences in chapters]
    token_lists = [" " + " ".join(tokens(text)) + " " for text in texts]
    cues = cues_for(language)
    used: set[str] = set()
    out = []
    for k, text in enumerate(texts):
        phrases = episode_keywords(text, language, cues, top=options.title_candidates)
        ranked = sorted(phrases, key=lambda p: (_own_share(p, k, token_lists) < 0.5, phrases.index(p)))
        title = _title(ranked, used, options.title_max_chars) or f"Part {k + 1}"
        used.add(title.lower())
        out.append((title, tuple(ranked)))
    return out


def _own_share(phrase: str, k: int, token_lists: list[str]) -> float:
    """The share of the phrase's mentions in the episode that fall in chapter ``k``."""
    needle = f" {phrase} "
    counts = [text.count(needle) for text in token_lists]
    return counts[k] / sum(counts) if sum(counts) else 0.0


def _title(phrases: list[str], used: set[str], limit: int) -> str:
    """The best phrase not yet a title, joined by a second one with no word in common when both fit."""
    for i, first in enumerate(phrases):
        for second in phrases[i + 1:] + [""]:
            if second and {_stem(w) for w in second.split()} & {_stem(w) for w in first.split()}:
                continue
            title = title_case(f"{first} and {second}" if second else first)
            if len(title) <= limit and title.lower() not in used:
                return title
    return ""


def title_case(text: str) -> str:
    words = re.split(r"(\s+)", text.strip())
    out = []
    for k, word in enumerate(words):
        small = word.lower() in SMALL_WORDS and 0 < k < len(words) - 1
        out.append(word.lower() if small else word[:1].upper() + word[1:])
    return "".join(out)


# --- who speaks -----------------------------------------------------------------------------------------

def _speaker(sentences: list[Sentence], names: dict[str, str], share: float) -> str | None:
    """The name of the speaker who says at least ``share`` of the chapter's words, when the VA named them."""
    labels = speakers_by_time(sentences)
    if not labels or not names.get(labels[0]):
        return None
    words = [w for s in sentences for w in s.words if w.speaker]
    own = sum(1 for w in words if w.speaker == labels[0])
    return names[labels[0]] if words and own / len(words) >= share else None
