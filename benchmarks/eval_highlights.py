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
Exit status 1 when a target is missed (recall@5 ≥ 90 %, clean cuts 100 %).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from _common import ROOT, git_state, log, machine_info, save_result  # noqa: E402
from eval_metrics import Span, evaluate  # noqa: E402

EVAL_DIR = ROOT / "eval-data"
TARGETS = {"recall_at_5_min": 0.90, "clean_cut_share_min": 1.0}
TOP = 10


def transcribe_cached(audio: Path):
    from pipeline.core.settings import load_settings
    from pipeline.transcribe import ModelStore, TranscribeOptions, TranscriptResult, transcribe_file

    settings = load_settings(ROOT / "bench-data" / "home")
    from pipeline.transcribe.languages import model_for

    # The evaluation episodes are English: the "auto" model resolves as for an English-only client.
    options = TranscribeOptions(model=model_for(settings.transcribe.model, ["en"]), beam_size=settings.transcribe.beam_size,
                                batch_size=settings.transcribe.batch_size)
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


def run(episodes: int | None) -> dict:
    import make_eval_set

    from pipeline.highlights import FeatureWeights, HighlightOptions, envelope_from_file, mine_highlights

    manifest = make_eval_set.build(str(EVAL_DIR), episodes, log=log)
    text_only = HighlightOptions(top=TOP, weights=FeatureWeights(energy=0.0, energy_variation=0.0))
    variants = {"default": HighlightOptions(top=TOP), "text_only": text_only}
    predictions = {name: {} for name in variants}
    held_out = {e["episode"] for e in manifest["episodes"] if e.get("held_out")}
    truths, checked, failures, mining_seconds, audio_seconds = {}, 0, [], 0.0, 0.0
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
        log(f"{name}: top-5 {[(round(s.start), round(s.end)) for s in predictions['default'][name][:5]]}, "
            f"truth {[(round(s.start), round(s.end)) for s in truths[name]]}")
    share = 1 - len(failures) / checked if checked else 0.0
    reports = {v: evaluate(predictions[v], truths, clean_cut_share=share).to_dict() for v in variants}
    for subset, names in (("tuned", set(truths) - held_out), ("held_out", held_out)):
        if names:
            reports[subset] = evaluate({n: predictions["default"][n] for n in names},
                                       {n: truths[n] for n in names}, clean_cut_share=share).to_dict()
    main = reports["default"]
    return {
        "machine": machine_info(), "git": git_state(), "targets": TARGETS, "top": TOP,
        "episodes": len(truths), "moments": main["moments"], "audio_minutes": round(audio_seconds / 60, 1),
        "highlights_checked": checked, "clean_cut_failures": failures[:20],
        "mining_seconds_total": round(mining_seconds, 3),
        "reports": reports,
        "targets_met": main["recall_at_5"] >= TARGETS["recall_at_5_min"] and share >= TARGETS["clean_cut_share_min"],
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
    print("  targets met" if data["targets_met"] else "  TARGET MISSED (recall@5 ≥ 90 %, clean cuts 100 %)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, help="only the first N episodes")
    parser.add_argument("--quick", action="store_true", help="the first two episodes only")
    args = parser.parse_args()
    episodes = 2 if args.quick else args.episodes
    data = run(episodes)
    save_result("eval", data, quick=episodes is not None)
    print_summary(data)
    return 0 if data["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
