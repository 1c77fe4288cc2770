"""BENCHMARKS.md section for clip rendering: the ffmpeg engine vs the moviepy engine."""

from __future__ import annotations

MB = 1024**2


def _yes(flag: bool) -> str:
    return "**yes**" if flag else "**NO — missed**"


def target_rows(w, data: dict | None) -> None:
    if not data:
        w("| clip rendering speed (ffmpeg vs moviepy engine) | not run | — |")
        return
    target = data["target_ratio"]
    for r in data["results"]:
        name = f"Clips: ffmpeg engine ≥ {target:g}× faster than moviepy ({r['label']})"
        if "ratio" not in r:
            w(f"| {name} | not measured (engines run: {', '.join(r['engines'])}) | — |")
            continue
        e = r["engines"]
        w(f"| {name} | {r['ratio']:.1f}× ({e['ffmpeg']['s_per_clip_second']:.2f} vs "
          f"{e['moviepy']['s_per_clip_second']:.2f} s per clip-second) | {_yes(r['target_met'])} |")


def render_section(w, data: dict, number: int) -> None:
    spec = data["spec"]
    video = spec["test_video"]
    quick = " --quick" if data.get("quick") else ""
    w(f"## {number}. Clip rendering: ffmpeg engine vs moviepy engine")
    w("")
    start, end = data.get("git_at_start"), data.get("git_at_end")
    w(f"Command: `.venv/bin/python benchmarks/bench_clips.py{quick}` (took {data['elapsed_s'] / 60:.0f} min), "
      f"code git {start}" + ("" if start == end else f" (changed during the run, ended at {end}: re-run)") + ".")
    w("")
    cases = {r["case"]: r for r in data["results"]}
    w(f"Both engines render the same `ClipSpec` ({spec['size'][0]}×{spec['size'][1]}, {spec['aspect']}, "
      f"{spec['fps']} fps, fit `{spec['fit']}`, H.264 + AAC MP4), with word-synced captions from the sample's "
      f"faster-whisper transcript (`{spec['transcript']}`):")
    w("")
    if "audiogram" in cases:
        r = cases["audiogram"]
        w(f"- **audiogram**: `{r['source']}` from {r['start']:.1f} to {r['end']:.1f} s ({r['clip_seconds']:.0f} s), "
          f"title card, waveform, title, progress bar and captions ({_words(r)} words);")
    if "vertical_cut" in cases:
        r = cases["vertical_cut"]
        w(f"- **vertical cut**: `{r['source']}` ({video['size'][0]}×{video['size'][1]}, {video['fps']} fps, "
          f"{video['seconds']} s, generated once with ffmpeg lavfi `testsrc2` and the audio of {video['audio']}) "
          f"cut from {r['start']:.1f} to {r['end']:.1f} s ({r['clip_seconds']:.0f} s), centre-cropped to 9:16, "
          f"with the words spoken in that window as captions ({_words(r)} words).")
    w("")
    w("Each render runs alone in a fresh Python subprocess. Timed inside it: the engine's `render()` call (for "
      "the ffmpeg engine also paginating the words and writing the ASS file it burns in; the moviepy engine "
      "draws the captions from `spec.words` itself). \"Process s\" is the whole subprocess including Python "
      "start-up and imports. Peak RSS is the largest sum of RSS over that subprocess and all its children "
      "(ffmpeg included), sampled every 0.1 s. Runs alternate which engine goes first"
      + (f"; runs with more than {data['max_other_cores']} cores of other load are repeated once."
         if not data.get("quick") else "; quick mode: one run each, none repeated."))
    w("")
    w("| Case | Engine | Runs | Median s (all) | s per clip-second | Process s, median | Peak RSS (tree) | "
      "Other load (cores) |")
    w("|---|---|---|---|---|---|---|---|")
    for r in data["results"]:
        for engine, e in r["engines"].items():
            runs = ", ".join(f"{x:.1f}" for x in e["seconds"])
            other = ", ".join(f"{x:.2f}" for x in e["other_cores"])
            w(f"| {r['label']} | {engine} | {e['runs']} | {e['median_s']:.1f} ({runs}) | "
              f"**{e['s_per_clip_second']:.2f}** | {e['median_process_wall_s']:.1f} | "
              f"{e['peak_tree_rss'] / MB:,.0f} MiB | {other} |")
    w("")
    ratios = [r for r in data["results"] if "ratio" in r]
    if ratios:
        w("| Case | Ratio (moviepy median / ffmpeg median) | Whole process | Target |")
        w("|---|---|---|---|")
        for r in ratios:
            w(f"| {r['label']} | **{r['ratio']:.1f}×** | {r['process_ratio']:.1f}× | "
              f"≥ {data['target_ratio']:g}×: {_yes(r['target_met'])} |")
        w("")
    outputs = []
    for r in data["results"]:
        for engine, e in r["engines"].items():
            p = e.get("probe") or {}
            if p:
                outputs.append(f"{r['label']} / {engine}: {p['width']}×{p['height']}, {p['fps']:.0f} fps, "
                               f"{p['seconds']:.2f} s, {e['output']['bytes'] / 1e6:.1f} MB")
    if outputs:
        w("Outputs (ffprobe): " + "; ".join(outputs) + ".")
        w("")
    if data.get("discarded_runs"):
        w(f"Discarded and repeated because other processes used more than {data['max_other_cores']} cores "
          "meanwhile: " + "; ".join(f"{d['engine']} on {d['case']} ({d['seconds']:.1f} s, other load "
                                    f"{d['other_cores']:.2f})" for d in data["discarded_runs"]) + ".")
        w("")


def _words(r: dict) -> int:
    return next(iter(r["engines"].values()))["words"]
