#!/usr/bin/env python3
"""Highlight-mining evaluation on the project's own labelled episodes (this is ``make eval``).

    .venv/bin/python benchmarks/eval_highlights.py            # build/reuse eval-data/, evaluate, save
    .venv/bin/python benchmarks/eval_highlights.py --episodes 2

1. ``scripts/make_eval_set.py`` builds synthetic two-voice episodes (espeak-ng) where
   strong moments are planted among filler talk, with their exact start/end.
2. Each episode is transcribed by the product's default engine (faster-whisper, bundled
   tiny.en); transcripts are cached in eval-data/ keyed by the engine settings.
3. ``mine_highlights`` (product defaults, top 10, audio energy from the file) ranks highlights.
4. A planted moment is found at k when one of the top-k highlights has IoU ≥ 0.5 with it.
   Every returned highlight is checked against the clean-cut invariants.

Also reported: the same run with the audio features switched off (text only), because
planted moments are spoken louder than filler and the audio alone could find them.

5. The multilingual set (eval-data/multilingual/: three Indonesian and three code-switched
   English/Indonesian episodes, written after the code) is transcribed with the multilingual
   model as a client speaking those languages would have it, mined the same way, and reported
   per language: recall@5, the WER per spoken language (against the script, sentence by
   sentence) and the clean-cut share.

For both sets a cut is also checked against the generator's own truth: between the script's
sentences, at least the clip's 20 ms edge fade away from every sentence's speech, not only
outside the ASR's word spans; and a cut inside a script sentence is checked against the
generated audio by the generator's own definition of speech (a sample of at least 1 % of its
sentence's peak within the fade): such a cut in a silent pause inside a sentence (where the ASR
ended a sentence at a comma) is quiet, one near a sounding sample is in speech.
Exit status 1 when a target is missed (English set: recall@5 ≥ 90 %, clean cuts 100 %; both
sets: no cut in speech).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _common import ROOT, git_state, log, machine_info, replace_lines, replace_section, save_result  # noqa: E402
from eval_metrics import Span, evaluate  # noqa: E402

EVAL_DIR = ROOT / "eval-data"
MULTILINGUAL_DIR = EVAL_DIR / "multilingual"
TARGETS = {"recall_at_5_min": 0.90, "clean_cut_share_min": 1.0, "quiet_cut_share_min": 1.0}
TOP = 10
# The clips' edge fade: a cut nearer to speech than this lets the fade cover speech.
FADE_SECONDS = 0.02
# What a client's profile says for each set's episodes.
SPOKEN = {"en": ["en"], "id": ["id"], "mix": ["en", "id"]}


def transcribe_cached(audio: Path, spoken: list[str] | None = None):
    from pipeline.core.settings import load_settings
    from pipeline.transcribe import ModelStore, TranscribeOptions, TranscriptResult, transcribe_file
    from pipeline.transcribe.languages import for_speakers

    settings = load_settings(ROOT / "bench-data" / "home")
    # The options `castmill process` would use for a client who speaks ``spoken`` (English by default).
    options = for_speakers(TranscribeOptions(model=settings.transcribe.model, beam_size=settings.transcribe.beam_size,
                                             batch_size=settings.transcribe.batch_size), spoken or ["en"])
    key = options.cache_key(settings.transcribe.engine)
    cache = audio.with_suffix(".transcript.json")
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("cache_key") == key:
            return TranscriptResult.from_dict(data["transcript"])
    store = ModelStore(settings.models_dir, settings.models)
    result, _audio = transcribe_file(audio, settings.transcribe.engine, options, store)
    cache.write_text(json.dumps({"cache_key": key, "transcript": result.to_dict()}))
    return result


def clean_cut_failures(result, options) -> list[str]:
    from pipeline.highlights.candidates import Cut, clean_cut_violations

    problems = []
    for h in result.highlights:
        problems += [f"#{h.rank}: {p}" for p in
                     clean_cut_violations(Cut(h.start, h.end, frozenset(h.cut_from_audio)), h.first_sentence, h.last_sentence, result.timeline, options)]
    return problems


def true_pause_failures(result, truth: dict) -> list[str]:
    """Cuts that lie inside a sentence's speech, or nearer to it than the edge fade (generator truth)."""
    spans = [(s["start"], s["end"]) for s in truth["sentences"]]
    problems = []
    for h in result.highlights:
        for edge, t in (("start", h.start), ("end", h.end)):
            near = min(0.0 if a <= t <= b else min(abs(t - a), abs(t - b)) for a, b in spans)
            if near < FADE_SECONDS:
                problems.append(f"#{h.rank}: {edge} {t:.3f} s is {near * 1000:.0f} ms from speech")
    return problems


def cut_time(problem: str) -> float:
    return float(problem.split(" s is ")[0].rsplit(" ", 1)[1])


def sounding(problems: list[str], audio: Path, truth: dict) -> list[str]:
    """Of the cuts inside a script sentence, those where the audio itself sounds within the edge fade, by the
    generator's own definition of speech (a sample of at least TRIM_FRACTION of its sentence's peak). The others
    sit in a silent pause inside a sentence (after a comma, say, where the ASR ended a sentence)."""
    import numpy as np

    import make_eval_set
    from pipeline.media.audio import SAMPLE_RATE, decode_audio

    samples = np.abs(decode_audio(audio))
    out = []
    for problem in problems:
        t = cut_time(problem)
        sentence = next(s for s in truth["sentences"] if s["start"] - FADE_SECONDS <= t <= s["end"] + FADE_SECONDS)
        peak = samples[int(sentence["start"] * SAMPLE_RATE):int(sentence["end"] * SAMPLE_RATE)].max()
        around = samples[int((t - FADE_SECONDS) * SAMPLE_RATE):int((t + FADE_SECONDS) * SAMPLE_RATE)]
        if around.size and around.max() >= make_eval_set.TRIM_FRACTION * peak:
            out.append(problem)
    return out


def words_per_language(transcript, truth: dict) -> dict[str, tuple[str, str]]:
    """language -> (script text, transcript words heard during that language's sentences)."""
    words = [(w.word, (w.start + w.end) / 2) for w in transcript.words]
    texts: dict[str, tuple[list[str], list[str]]] = {}
    for sentence in truth["sentences"]:
        reference, hypothesis = texts.setdefault(sentence.get("language", "en"), ([], []))
        reference.append(sentence["text"])
        hypothesis += [w for w, mid in words if sentence["start"] - 0.25 <= mid <= sentence["end"] + 0.25]
    return {language: (" ".join(ref), " ".join(hyp)) for language, (ref, hyp) in texts.items()}


def basic_wer(reference: str, hypothesis: str) -> float:
    import jiwer
    from whisper.normalizers import BasicTextNormalizer

    normal = BasicTextNormalizer()
    return float(jiwer.wer(normal(reference), normal(hypothesis)))


def run_multilingual() -> dict:
    """Recall@5, WER per spoken language and clean cuts on the Indonesian and code-switched episodes."""
    import make_eval_set

    from pipeline.highlights import HighlightOptions, envelope_from_file, mine_highlights

    manifest = make_eval_set.build(str(MULTILINGUAL_DIR), log=log, multilingual=True)
    by_language: dict[str, dict] = {}
    for entry in manifest["episodes"]:
        name, language = entry["episode"], entry["language"]
        truth = json.loads((MULTILINGUAL_DIR / entry["truth"]).read_text())
        audio = MULTILINGUAL_DIR / entry["audio"]
        transcript = transcribe_cached(audio, SPOKEN[language])
        result = mine_highlights(transcript, HighlightOptions(top=TOP), energy=envelope_from_file(audio))
        group = by_language.setdefault(language, {"predictions": {}, "truths": {}, "held_out": [], "cuts": 0,
                                                  "true_pause_failures": [], "word_clean_failures": [],
                                                  "in_speech": [],
                                                  "texts": {}, "heard": {}})
        group["predictions"][name] = [Span(h.start, h.end) for h in result.highlights]
        group["truths"][name] = [Span(m["start"], m["end"]) for m in truth["moments"]]
        group["held_out"] += [name] if entry.get("held_out") else []
        group["cuts"] += 2 * len(result.highlights)
        inside = true_pause_failures(result, truth)
        group["true_pause_failures"] += [f"{name} {p}" for p in inside]
        group["in_speech"] += [f"{name} {p}" for p in sounding(inside, audio, truth)]
        group["word_clean_failures"] += [f"{name} {p}" for p in clean_cut_failures(result, HighlightOptions(top=TOP))]
        group["heard"][name] = transcript.language_shares()
        for spoken, (reference, hypothesis) in words_per_language(transcript, truth).items():
            ref, hyp = group["texts"].setdefault(spoken, ([], []))
            ref.append(reference)
            hyp.append(hypothesis)
        log(f"{name} ({language}): heard {transcript.language_shares()}, top-5 "
            f"{[(round(s.start), round(s.end)) for s in group['predictions'][name][:5]]}, "
            f"truth {[(round(s.start), round(s.end)) for s in group['truths'][name]]}")
    return {language: _language_report(group) for language, group in by_language.items()}


def _language_report(group: dict) -> dict:
    share = 1 - len(group["true_pause_failures"]) / group["cuts"] if group["cuts"] else 0.0
    report = evaluate(group["predictions"], group["truths"], clean_cut_share=share).to_dict()
    held = group["held_out"]
    return {
        "episodes": len(group["truths"]), "recall_at_5": report["recall_at_5"], "recall_at_10": report["recall_at_10"],
        "held_out_recall_at_5": evaluate({n: group["predictions"][n] for n in held},
                                         {n: group["truths"][n] for n in held}).to_dict()["recall_at_5"] if held else None,
        "true_pause_share": share, "true_pause_failures": group["true_pause_failures"][:20],
        "quiet_cut_share": 1 - len(group["in_speech"]) / group["cuts"] if group["cuts"] else 0.0,
        "cuts_in_speech": group["in_speech"][:20], "cuts": group["cuts"],
        "word_clean_failures": group["word_clean_failures"][:20],
        "wer": {spoken: round(basic_wer(" ".join(ref), " ".join(hyp)), 3)
                for spoken, (ref, hyp) in sorted(group["texts"].items())},
        "heard": group["heard"],
    }


def run(episodes: int | None) -> dict:
    import make_eval_set

    from pipeline.highlights import FeatureWeights, HighlightOptions, envelope_from_file, mine_highlights

    manifest = make_eval_set.build(str(EVAL_DIR), episodes, log=log)
    text_only = HighlightOptions(top=TOP, weights=FeatureWeights(energy=0.0, energy_variation=0.0))
    variants = {"default": HighlightOptions(top=TOP), "text_only": text_only}
    predictions = {name: {} for name in variants}
    held_out = {e["episode"] for e in manifest["episodes"] if e.get("held_out")}
    truths, checked, failures, mining_seconds, audio_seconds = {}, 0, [], 0.0, 0.0
    pause_failures, in_speech, cuts = [], [], 0
    for entry in manifest["episodes"]:
        name = entry["episode"]
        truth = json.loads((EVAL_DIR / entry["truth"]).read_text())
        truths[name] = [Span(m["start"], m["end"]) for m in truth["moments"]]
        audio = EVAL_DIR / entry["audio"]
        transcript = transcribe_cached(audio)
        energy = envelope_from_file(audio)
        audio_seconds += truth["duration"]
        for variant, options in variants.items():
            started = time.perf_counter()
            result = mine_highlights(transcript, options, energy=energy if variant == "default" else None)
            mining_seconds += time.perf_counter() - started if variant == "default" else 0.0
            predictions[variant][name] = [Span(h.start, h.end) for h in result.highlights]
            problems = clean_cut_failures(result, options)
            checked += len(result.highlights)
            failures += [f"{name} ({variant}) {p}" for p in problems]
            if variant == "default":
                cuts += 2 * len(result.highlights)
                inside = true_pause_failures(result, truth)
                pause_failures += [f"{name} {p}" for p in inside]
                in_speech += [f"{name} {p}" for p in sounding(inside, audio, truth)]
        log(f"{name}: top-5 {[(round(s.start), round(s.end)) for s in predictions['default'][name][:5]]}, "
            f"truth {[(round(s.start), round(s.end)) for s in truths[name]]}")
    share = 1 - len(failures) / checked if checked else 0.0
    reports = {v: evaluate(predictions[v], truths, clean_cut_share=share).to_dict() for v in variants}
    for subset, names in (("tuned", set(truths) - held_out), ("held_out", held_out)):
        if names:
            reports[subset] = evaluate({n: predictions["default"][n] for n in names},
                                       {n: truths[n] for n in names}, clean_cut_share=share).to_dict()
    main = reports["default"]
    true_pause_share = 1 - len(pause_failures) / cuts if cuts else 0.0
    quiet_share = 1 - len(in_speech) / cuts if cuts else 0.0
    languages = run_multilingual() if episodes is None else {}
    pauses_ok = quiet_share >= TARGETS["quiet_cut_share_min"] and all(
        r["quiet_cut_share"] >= TARGETS["quiet_cut_share_min"] for r in languages.values())
    return {
        "machine": machine_info(), "git": git_state(), "targets": TARGETS, "top": TOP,
        "episodes": len(truths), "moments": main["moments"], "audio_minutes": round(audio_seconds / 60, 1),
        "highlights_checked": checked, "clean_cut_failures": failures[:20],
        "true_pause_share": true_pause_share, "true_pause_failures": pause_failures[:20],
        "quiet_cut_share": quiet_share, "cuts_in_speech": in_speech[:20], "cuts": cuts,
        "mining_seconds_total": round(mining_seconds, 3),
        "reports": reports,
        "languages": languages,
        "targets_met": main["recall_at_5"] >= TARGETS["recall_at_5_min"] and share >= TARGETS["clean_cut_share_min"]
        and pauses_ok,
    }


def print_summary(data: dict) -> None:
    print(f"\nHighlight evaluation: {data['episodes']} episodes, {data['moments']} planted moments, "
          f"{data['audio_minutes']} min of audio, top {data['top']}")
    for variant, r in data["reports"].items():
        error = "–" if r["mean_boundary_error"] is None else f"{r['mean_boundary_error']:.2f} s"
        print(f"  {variant:10s} recall@5 {r['recall_at_5']:.0%}  recall@10 {r['recall_at_10']:.0%}  "
              f"mean boundary error {error}")
    print(f"  clean cuts: {data['highlights_checked'] - len(data['clean_cut_failures'])}/{data['highlights_checked']} "
          f"({data['reports']['default']['clean_cut_share']:.0%})")
    for failure in data["clean_cut_failures"]:
        print(f"    {failure}")
    print(f"  cuts between the script's sentences: {data['true_pause_share']:.1%}; cuts where the audio is silent "
          f"within the edge fade: {data['quiet_cut_share']:.1%} of {data['cuts']}")
    for failure in data["cuts_in_speech"]:
        print(f"    in speech: {failure}")
    for language, r in data.get("languages", {}).items():
        wer = ", ".join(f"{code} {value:.0%}" for code, value in r["wer"].items())
        print(f"  {language:10s} ({r['episodes']} episodes) recall@5 {r['recall_at_5']:.0%}  recall@10 "
              f"{r['recall_at_10']:.0%}  cuts between sentences {r['true_pause_share']:.1%}, in silence "
              f"{r['quiet_cut_share']:.1%}  WER {wer}")
        for failure in r["cuts_in_speech"]:
            print(f"    in speech: {failure}")
    print("  targets met" if data["targets_met"] else
          "  TARGET MISSED (recall@5 ≥ 90 %, clean cuts 100 %, every cut in silence)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, help="only the first N episodes")
    parser.add_argument("--quick", action="store_true", help="the first two episodes only")
    parser.add_argument("--write-section", action="store_true", help="rewrite section 3 of BENCHMARKS.md in place")
    args = parser.parse_args()
    episodes = 2 if args.quick else args.episodes
    data = run(episodes)
    save_result("eval", data, quick=episodes is not None)
    print_summary(data)
    if args.write_section and episodes is None:
        write_section(data)
    return 0 if data["targets_met"] else 1


def write_section(data: dict) -> None:
    """Section 3 and the highlight rows of the targets table, in place (the rest of the file is left as it is)."""
    import render_highlights

    section, rows = [], []
    render_highlights.render_eval(section.append, data, 3)
    render_highlights.target_rows(rows.append, data, None)
    benchmarks_md = ROOT / "BENCHMARKS.md"
    replace_section(benchmarks_md, "## 3. Highlight mining: evaluation", "\n".join(section))
    replace_lines(benchmarks_md, ["| Highlights: recall@5", "| Highlights: clean-cut", "| Highlights: every cut"],
                  [r for r in rows if r.startswith("| Highlights")])
    log("rewrote section 3 and the highlight target rows of BENCHMARKS.md")


if __name__ == "__main__":
    sys.exit(main())
