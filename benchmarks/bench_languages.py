#!/usr/bin/env python3
"""tiny.en vs the multilingual base, per language: WER, real-time factor and the language heard.

    .venv/bin/python benchmarks/bench_languages.py                  # measure, write results/languages.json
    .venv/bin/python benchmarks/bench_languages.py --write-section  # and rewrite section 8 of BENCHMARKS.md

The audio: the bundled English sample (107 s, two voices) and episodes spoken by espeak-ng
from the fixed scripts below, in Indonesian, French, and English with Indonesian switched in.
Each is transcribed by faster-whisper (the product's defaults: int8, beam 5, VAD, batch 8 or 4 for base)
with tiny.en and with base, and the English speech (the sample plus ep01 and ep02 of the English
eval set) once more with openai-whisper on base, the same weights. The
language is what the client's profile would give: fixed for the one-language episodes, detected
for the code-switched one. Only
``transcribe()`` is timed, after a warm-up on the first file; the models are loaded beforehand.
WER is computed with jiwer against the script, after openai-whisper's English normaliser for
English and its basic normaliser for the other languages. espeak-ng's Indonesian voice is hard
for any model, which is why the WER per language is reported: it shows how far a transcript in
that language can be trusted on this material.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA_DIR, ROOT, SAMPLE_MP3, SAMPLE_TXT, git_state, log, machine_info, replace_lines, replace_section, save_result, wer,
)

SCRIPTS = {
    "id": ("id", "Selamat pagi dan selamat datang di podcast kami. Hari ini kita bicara tentang usaha kecil di "
                 "Jakarta. Tamu kami sudah lima tahun menjual kopi lewat media sosial. Menurut dia, kunci utamanya "
                 "adalah konsisten. Setiap minggu dia mengunggah tiga video pendek. Penjualannya naik dua kali lipat "
                 "dalam satu tahun. Jadi, jangan takut mencoba hal baru."),
    "fr": ("fr", "Bonjour et bienvenue dans notre émission. Aujourd'hui nous parlons des petites entreprises à "
                 "Paris. Notre invitée vend du pain depuis dix ans. Selon elle, le plus important est la qualité. "
                 "Chaque matin elle prépare trois cents baguettes. Ses clients reviennent tous les jours."),
    "en+id": ("en-us", "Welcome back to the show. Today we talk about small shops. Jadi, tamu kami menjual kopi di "
                       "Jakarta. She started five years ago. Penjualannya naik dua kali lipat. That is a big result."),
}
LANGUAGE_OF = {"en": "en", "id": "id", "fr": "fr", "en+id": "en"}
# What the client's profile would say: one language is decoded as such, several are detected.
SPOKEN = {"en": ["en"], "id": ["id"], "fr": ["fr"], "en+id": ["en", "id"]}
# The engine comparison on base: the English sample and the first two English eval episodes (two espeak
# voices, ~6.5 min each, built by scripts/make_eval_set.py as for `make eval`): ~2,200 words, where the
# sample alone (~260 words) moves a WER by 0.4 points a word.
ENGINE_EPISODES = ("en", "ep01", "ep02")
RESULT = "languages"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
SECTION = "## 8. Languages: tiny.en vs the multilingual base"


def episodes(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    found = {"en": (SAMPLE_MP3, SAMPLE_TXT.read_text())}
    for name, (voice, text) in SCRIPTS.items():
        wav = folder / f"{name}.wav"
        if not wav.is_file():
            if name == "en+id":  # two voices, one file: the English and Indonesian sentences as spoken
                _code_switched(wav, text)
            else:
                subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
        found[name] = (wav, text)
    return found


def english_eval_episodes() -> dict[str, tuple[Path, str]]:
    """ep01 and ep02 of the English eval set (built, or reused from eval-data/), with their scripts."""
    import json

    sys.path.insert(0, str(ROOT / "scripts"))
    import make_eval_set

    folder = ROOT / "eval-data"
    make_eval_set.build(str(folder), episodes=2, log=log)
    found = {}
    for name in ENGINE_EPISODES[1:]:
        truth = json.loads((folder / f"{name}.truth.json").read_text())
        found[name] = (folder / f"{name}.mp3", " ".join(s["text"] for s in truth["sentences"]))
    return found


def _code_switched(wav: Path, text: str) -> None:
    parts = []
    for index, sentence in enumerate(s.strip() + "." for s in text.split(".") if s.strip()):
        voice = "id" if any(w in sentence for w in ("Jadi", "Penjualannya")) else "en-us"
        part = wav.with_name(f".part{index}.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(part), sentence], check=True)
        parts.append(part)
    listing = wav.with_name(".parts.txt")
    listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), str(wav)],
                   check=True)
    for path in (*parts, listing):
        path.unlink()


def score(reference: str, hypothesis: str, language: str) -> float:
    if language == "en":
        return wer(reference, hypothesis)
    import jiwer
    from whisper.normalizers import BasicTextNormalizer

    normal = BasicTextNormalizer()
    return float(jiwer.wer(normal(reference), normal(hypothesis)))


def measure() -> dict:
    from pipeline.media.audio import decode_audio
    from pipeline.transcribe import TranscribeOptions, get_transcriber
    from pipeline.transcribe.languages import describe_shares, for_speakers
    from pipeline.transcribe.weights import ModelStore

    store = ModelStore(DATA_DIR / "models")
    sources = {**episodes(DATA_DIR / "languages"), **english_eval_episodes()}
    audio = {name: (decode_audio(path), text) for name, (path, text) in sources.items()}
    rows = []
    for engine, model in (("faster-whisper", "tiny.en"), ("faster-whisper", "base"), ("openai-whisper", "base")):
        transcriber = get_transcriber(engine, store)
        options = TranscribeOptions(model=model)
        transcriber.transcribe(audio["en"][0][: 5 * 16_000], options)  # load and warm up
        for name, (samples, text) in audio.items():
            if (engine == "openai-whisper" and name not in ENGINE_EPISODES
                    or model == "tiny.en" and name in ENGINE_EPISODES[1:]):
                continue  # openai-whisper runs the engine comparison only; tiny.en the language table only
            # The product's options for a client who speaks SPOKEN[name] (tiny.en ignores the language).
            chosen = for_speakers(options, SPOKEN.get(name, ["en"]))
            started = time.perf_counter()
            result = transcriber.transcribe(samples, chosen)
            seconds = time.perf_counter() - started
            rows.append({"engine": engine, "model": model, "episode": name, "audio_seconds": samples.size / 16_000,
                         "transcribe_seconds": round(seconds, 2), "rtf": round(seconds / (samples.size / 16_000), 3),
                         "wer": round(score(text, result.text, LANGUAGE_OF.get(name, "en")), 4),
                         "reference": text if name in ENGINE_EPISODES else None,
                         "hypothesis": result.text if name in ENGINE_EPISODES else None,
                         "heard": describe_shares(result.language_shares())})
            log(f"{engine} {model} {name}: RTF {rows[-1]['rtf']}, WER {rows[-1]['wer']}, heard {result.language}")
    return {"machine": machine_info(), "code": git_state(), "rows": rows}


def render(data: dict) -> str:
    rows = data["rows"]
    out = [SECTION, "",
           f"Measured by `.venv/bin/python benchmarks/bench_languages.py --write-section` on {data['machine']['date']} "
           f"(code {data['code']}). faster-whisper with the product's defaults (int8, beam 5, VAD; batches of 8 "
           "chunks for tiny.en, 4 for base); the "
           "openai-whisper row runs the same base weights, converted. WER against the script; espeak-ng speech, "
           "except the English sample. The language is fixed as a one-language client's profile fixes it (id, fr) and "
           "detected per stretch for the code-switched episode; 'heard' is each language's share of the transcript. "
           "RTF = transcription seconds / audio seconds (lower is faster).", "",
           "| episode | audio | tiny.en WER | base WER | tiny.en heard | base heard | tiny.en RTF | base RTF |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    by = {(r["engine"], r["model"], r["episode"]): r for r in rows}
    for name in ("en", *SCRIPTS):
        tiny, base = by[("faster-whisper", "tiny.en", name)], by[("faster-whisper", "base", name)]
        out.append(f"| {name} | {tiny['audio_seconds']:.0f} s | {tiny['wer']:.0%} | {base['wer']:.0%} | "
                   f"{tiny['heard']} | {base['heard']} | {tiny['rtf']:.3f} | {base['rtf']:.3f} |")
    out += ["", "The en+id episode switches language sentence by sentence within 15 s, inside one ~30-second "
                "detection window, so it is heard as one stretch: the language is heard per window (a switch "
                "between two windows is then placed to within ~8 s), not per sentence.", ""]
    out += _engine_lines(by)
    out += _base_process_lines()
    return "\n".join(out)


def engine_comparison(by: dict) -> dict[str, dict]:
    """Per engine on base: each English episode's WER and RTF, and the pooled figures (WER over all the words,
    RTF over all the audio)."""
    found = {}
    for engine in ("faster-whisper", "openai-whisper"):
        rows = [by[(engine, "base", name)] for name in ENGINE_EPISODES]
        found[engine] = {
            "episodes": {name: row for name, row in zip(ENGINE_EPISODES, rows)},
            "wer": wer(" ".join(r["reference"] for r in rows), " ".join(r["hypothesis"] for r in rows)),
            "rtf": sum(r["transcribe_seconds"] for r in rows) / sum(r["audio_seconds"] for r in rows),
            "minutes": sum(r["audio_seconds"] for r in rows) / 60,
        }
    return found


def _engine_lines(by: dict) -> list[str]:
    both = engine_comparison(by)
    fw, ow = both["faster-whisper"], both["openai-whisper"]
    out = ["Same base weights on English speech, both engines (the sample, and ep01 and ep02 of the English eval "
           "set):", "", "| episode | audio | faster-whisper WER | openai-whisper WER | faster-whisper RTF | "
           "openai-whisper RTF |", "| --- | --- | --- | --- | --- | --- |"]
    for name in ENGINE_EPISODES:
        f, o = fw["episodes"][name], ow["episodes"][name]
        out.append(f"| {name} | {f['audio_seconds']:.0f} s | {f['wer']:.1%} | {o['wer']:.1%} | {f['rtf']:.3f} | "
                   f"{o['rtf']:.3f} |")
    out.append(f"| all | {fw['minutes']:.1f} min | {fw['wer']:.1%} | {ow['wer']:.1%} | {fw['rtf']:.3f} | "
               f"{ow['rtf']:.3f} |")
    ratio, gap = ow["rtf"] / fw["rtf"], (fw["wer"] - ow["wer"]) * 100
    out += ["", f"Over all of it faster-whisper is **{ratio:.1f}×** faster (target ≥ 3×: {_met(ratio >= 3)}) at a WER "
                f"{gap:+.1f} points from openai-whisper's (target within 1: {_met(abs(gap) <= 1)}). On the sample alone "
                "a gap is a handful of its ~260 words, which is why the comparison pools two eval episodes with it.",
            ""]
    return out


def _base_process_lines() -> list[str]:
    """The 60-minute `castmill process` run for a client speaking English and Indonesian (base), if measured."""
    from _common import load_result

    run = load_result("process_memory_base")
    if not run:
        return []
    p, seconds = run["process"], run["episode"]["seconds"]
    wall_ok, rss_ok = p["ok"] and p["wall_s"] < 600, p["ok"] and p["peak_tree_rss"] < 1.5e9
    languages = ((p.get("report") or {}).get("episodes") or [{}])[0].get("languages", {})
    transcript = p.get("transcript", {})
    return [f"`castmill process` on the {seconds / 60:.1f}-minute episode for a client whose profile says "
            '`languages = ["en", "id"]` (so: base, language heard window by window), measured by '
            "`.venv/bin/python benchmarks/bench_process_memory.py --multilingual --no-breakdown` on "
            f"{run['machine']['date']} (code {run['git_at_start']}): wall **{p['wall_s'] / 60:.1f} min** "
            f"(RTF {p['wall_s'] / seconds:.3f}; target < 10 min: {_met(wall_ok)}), peak RSS of the whole process tree "
            f"**{p['peak_tree_rss'] / 1e9:.2f} GB** (target < 1.5 GB: {_met(rss_ok)}); heard "
            f"{', '.join(f'{k} {v:.0%}' for k, v in languages.items()) or '–'}; WER against the script "
            f"{transcript.get('wer', float('nan')):.1%} ({transcript.get('model', '?')}).", ""]


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


TARGET_PREFIX = "| base (multilingual):"


def target_rows(data: dict) -> list[str]:
    """The base model's rows of the Targets table: engine speed and WER, and the 60-minute process run."""
    from _common import load_result

    by = {(r["engine"], r["model"], r["episode"]): r for r in data["rows"]}
    both = engine_comparison(by)
    fw, ow = both["faster-whisper"], both["openai-whisper"]
    ratio, gap, minutes = ow["rtf"] / fw["rtf"], (fw["wer"] - ow["wer"]) * 100, fw["minutes"]
    rows = [f"{TARGET_PREFIX} faster-whisper ≥ 3× faster than openai-whisper, {minutes:.1f} min of English | "
            f"{ratio:.1f}× | {_yes(ratio >= 3)} |",
            f"{TARGET_PREFIX} WER within 1 point of openai-whisper, {minutes:.1f} min of English | {fw['wer']:.2%} vs "
            f"{ow['wer']:.2%} ({gap:+.2f} pts) | {_yes(abs(gap) <= 1)} |"]
    run = load_result("process_memory_base")
    if run:
        p, minutes = run["process"], run["episode"]["seconds"] / 60
        rows += [f"{TARGET_PREFIX} `castmill process` < 10 min, {minutes:.1f}-min episode | {p['wall_s'] / 60:.1f} min | "
                 f"{_yes(p['ok'] and p['wall_s'] < 600)} |",
                 f"{TARGET_PREFIX} `castmill process` peak RSS < 1.5 GB, {minutes:.1f}-min episode | "
                 f"{p['peak_tree_rss'] / 2**20:,.0f} MiB ({p['peak_tree_rss'] / 1e9:.2f} GB) | "
                 f"{_yes(p['ok'] and p['peak_tree_rss'] < 1.5e9)} |"]
    return rows


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**NO — missed**"


def write_section(text: str, data: dict) -> None:
    replace_section(BENCHMARKS_MD, SECTION, text)
    replace_lines(BENCHMARKS_MD, [TARGET_PREFIX], target_rows(data))
    log(f"rewrote {SECTION!r} and the base rows of the Targets table in BENCHMARKS.md")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-section", action="store_true", help="rewrite section 8 of BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="accepted for make bench --quick; the set is small")
    parser.add_argument("--report-only", action="store_true", help="rewrite section 8 from the saved result")
    args = parser.parse_args()
    if args.report_only:
        from _common import load_result

        data = load_result(RESULT)
        write_section(render(data), data)
        return 0
    data = measure()
    save_result(RESULT, data, quick=args.quick)
    if args.write_section and not args.quick:
        write_section(render(data), data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
