"""BENCHMARKS.md sections for highlight mining: the evaluation (``make eval``) and mining speed."""

from __future__ import annotations


def _yes(flag: bool) -> str:
    return "**yes**" if flag else "**NO — missed**"


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def target_rows(w, evaluation: dict | None, speed: dict | None) -> None:
    if evaluation:
        r = evaluation["reports"]["default"]
        w(f"| Highlights: recall@5 ≥ 90 % on the labelled eval set ({r['moments']} planted moments) | "
          f"{_pct(r['recall_at_5'])} | {_yes(r['recall_at_5'] >= evaluation['targets']['recall_at_5_min'])} |")
        w(f"| Highlights: clean-cut share 100 % | {_pct(r['clean_cut_share'])} of "
          f"{evaluation['highlights_checked']} cuts | {_yes(r['clean_cut_share'] >= 1.0)} |")
        if "quiet_cut_share" in evaluation:
            shares = [evaluation["quiet_cut_share"], *(x["quiet_cut_share"] for x in evaluation["languages"].values())]
            w(f"| Highlights: every cut in silence of the generated audio, none in speech (English, "
              f"{' / '.join(evaluation['languages'])}) | {' / '.join(f'{x * 100:.1f} %' for x in shares)} | "
              f"{_yes(min(shares) >= 1.0)} |")
    else:
        w("| highlight evaluation | not run | — |")
    if speed:
        at_60 = next(x for x in speed["results"] if x["minutes"] == 60)
        w(f"| Mining a 60-minute transcript < {speed['target_60_min_s']:.0f} s | {at_60['median_s']:.2f} s | "
          f"{_yes(speed['target_met'])} |")
    else:
        w("| highlight mining speed | not run | — |")


def render_eval(w, e: dict, number: int) -> None:
    w(f"## {number}. Highlight mining: evaluation on planted moments (`make eval`)")
    w("")
    w(f"Command: `make eval` (= `.venv/bin/python benchmarks/eval_highlights.py`), code git {e['git']}. "
      f"`scripts/make_eval_set.py` builds {e['episodes']} synthetic two-voice episodes ({e['audio_minutes']} min; "
      "espeak-ng) where strong moments (a hook, one complete idea with specifics) are planted among filler talk "
      "(housekeeping, hedges, back-references, sponsor reads, with distractor questions and numbers), with their "
      "exact start and end. Each episode is transcribed by the product default (faster-whisper, bundled "
      f"tiny.en) and mined with the product defaults (top {e['top']}). A moment counts as found at k when one "
      "of the top-k highlights overlaps it with IoU ≥ 0.5; boundary error is the mean of |Δstart| and |Δend| "
      "over matched moments.")
    w("")
    w("| Variant | Episodes | recall@5 | recall@10 | Mean boundary error | Clean cuts |")
    w("|---|---|---|---|---|---|")
    for name, label in (("default", "all episodes, product defaults (text + audio features)"),
                        ("text_only", "all episodes, audio features off (text only)"),
                        ("tuned", "episodes used while tuning the weights"),
                        ("held_out", "held-out episodes (see below)")):
        r = e["reports"].get(name)
        if not r:
            continue
        error = "–" if r["mean_boundary_error"] is None else f"{r['mean_boundary_error']:.2f} s"
        count = len(r["per_episode"])
        w(f"| {label} | {count} | {_pct(r['recall_at_5'])} | {_pct(r['recall_at_10'])} | {error} | "
          f"{_pct(r['clean_cut_share'])} |")
    w("")
    w(f"Clean cuts: every returned highlight ({e['highlights_checked']} over both variants) was checked against "
      "the invariants in `pipeline/highlights/candidates.py::clean_cut_violations` (starts before its first word, "
      "ends after its last, no cut inside any word, lead ≥ 0.2 s and tail ≥ 0.3 s when the pause allows, "
      "sentence-bounded, inside the episode, length within bounds)"
      + (": none failed." if not e["clean_cut_failures"] else f"; failures: {'; '.join(e['clean_cut_failures'])}."))
    w("")
    if "quiet_cut_share" in e:
        w(f"Cuts against the generator's truth (not the ASR's word times): of the {e['cuts']} product-default cuts, "
          f"{e['true_pause_share'] * 100:.1f} % lie between the script's sentences, at least the clips' 20 ms edge "
          "fade away from every sentence's span. The others fall inside a script sentence, because the ASR ended a "
          "sentence there (at a comma, or after an opening \"So\"); measured on the generated audio by the "
          "generator's own definition of speech (a sample of at least 1 % of its sentence's peak within the fade), "
          f"{e['quiet_cut_share'] * 100:.1f} % of all cuts are in silence"
          + (" and none is in speech." if not e["cuts_in_speech"]
             else f"; in speech: {'; '.join(e['cuts_in_speech'][:6])}."))
        w("")
    if e.get("languages"):
        render_languages(w, e["languages"])
    misses = [(ep["episode"], ep["moments"] - ep["found_at_5"]) for ep in e["reports"]["default"]["per_episode"]
              if ep["found_at_5"] < ep["moments"]]
    if misses:
        w("Moments missed at 5: " + ", ".join(f"{name} ({n})" for name, n in misses) + ".")
        w("")
    w("How to read these figures honestly: the feature weights were tuned while developing against the six "
      "episodes not marked held out, so their recall is optimistic. The three held-out episodes were written "
      "afterwards by a separate pass that did not see the miner; measured first, before any change made with "
      "them in view, they scored recall@5 67 % (6 of 9). Their misses were then examined, which led to general "
      "changes (advice and story openers as hooks, bold claims weighted like questions, a narrower spread "
      "penalty, and re-decoding batched Whisper chunks that had dropped speech), so they are no longer strictly "
      "held out either. Planted moments are also spoken louder than filler, which the audio features can "
      "exploit; the text-only row shows what the words alone find.")
    w("")


def render_languages(w, languages: dict) -> None:
    w("**Indonesian and code-switched episodes** (`eval-data/multilingual/`, text in "
      "`scripts/eval_scripts_multilingual.py`, all written after the code; id03 and mix03 are also marked held "
      "out). Three Indonesian episodes (id-voiced espeak-ng) and three that switch between English and "
      "Indonesian turn by turn, each with three planted moments (in the mixed ones, in both languages). "
      "Transcribed with the product's options for a client who speaks id, or en and id (the multilingual base, "
      "language per stretch), mined with the product defaults. WER per spoken language against the script, "
      "sentence by sentence; the cut columns as above.")
    w("")
    w("| Episodes | n | recall@5 | recall@10 | held-out recall@5 | WER per spoken language | cuts between sentences | cuts in silence | heard (share) |")
    w("|---|---|---|---|---|---|---|---|---|")
    labels = {"id": "Indonesian", "mix": "English/Indonesian"}
    for language, r in languages.items():
        wer = ", ".join(f"{code} {value * 100:.0f} %" for code, value in r["wer"].items())
        held = "–" if r["held_out_recall_at_5"] is None else _pct(r["held_out_recall_at_5"])
        heard = "; ".join(f"{name}: " + ", ".join(f"{c} {v * 100:.0f} %" for c, v in shares.items())
                          for name, shares in r["heard"].items())
        w(f"| {labels.get(language, language)} | {r['episodes']} | {_pct(r['recall_at_5'])} | "
          f"{_pct(r['recall_at_10'])} | {held} | {wer} | {r['true_pause_share'] * 100:.1f} % | "
          f"{r['quiet_cut_share'] * 100:.1f} % | {heard} |")
    w("")
    w("espeak-ng's Indonesian voice is hard for any model (see the WER column): these recall figures say how the "
      "miner does on transcripts of that quality, and are lower bounds for real Indonesian speech.")
    w("")


def render_speed(w, s: dict, number: int) -> None:
    w(f"## {number}. Highlight mining speed: 10, 60 and 180 minutes")
    w("")
    start, end = s.get("git_at_start"), s.get("git_at_end")
    w(f"Command: `.venv/bin/python benchmarks/bench_highlights.py`, code git {start}"
      + ("" if start == end else f" (changed during the run, ended at {end}: re-run)") + ". "
      "The sample's transcript and loudness envelope are tiled to each length; timed is `mine_highlights` "
      "from transcript + envelope in memory (sentences, YAKE key phrases, every candidate, all features, "
      f"selection, explanations of the top 8); median of {s['runs']} runs after a warm-up.")
    w("")
    w("| Transcript | Words | Sentences | Candidates | Median s | Runs (s) | ms per transcript minute | vs 60-min rate |")
    w("|---|---|---|---|---|---|---|---|")
    for r in s["results"]:
        runs = ", ".join(f"{x:.2f}" for x in r["seconds"])
        w(f"| {r['minutes']} min | {r['words']:,} | {r['sentences']:,} | {r['candidates']:,} | "
          f"**{r['median_s']:.2f}** | {runs} | {r['seconds_per_minute'] * 1000:.1f} | ×{r['per_minute_vs_60']:.2f} |")
    w("")
    w("Growth is near-linear: the cost per transcript minute stays within the range above from 10 to 180 "
      "minutes (the 10-minute run carries fixed costs such as YAKE setup).")
    d = s["envelope_decode"]
    w(f"Not included above: building the loudness envelope from the MP3 by streaming it through ffmpeg, "
      f"{d['seconds']:.1f} s for {d['path']} ({d['audio_s'] / 60:.1f} min), done once per episode by the "
      "highlights stage.")
    w("")
