#!/usr/bin/env python3
"""Backups: archive size, backup time and restore time for a home with 1,000 drafts and 50 episodes.

    .venv/bin/python benchmarks/bench_backup.py                  # 3 timed runs of each, full-size media
    .venv/bin/python benchmarks/bench_backup.py --quick          # 1 run of each, media a tenth of the size
    .venv/bin/python benchmarks/bench_backup.py --write-section  # and rewrite section 13 of BENCHMARKS.md

The home (SQLite, in a temp folder under bench-data/) is made by tests/helpers/backup.seed_home: 2 clients
with 25 episodes each, 3 highlights per episode, drafts from the real generator on 5 platforms (one per
highlight and one for the episode on each: 1,000 drafts), one rendered clip file per highlight (150), 96
scheduled posts in every state with their attempts and outbox files, castmill.toml, secret.key, client
templates, plus model weights and a cache that a backup leaves out. Media are random bytes, as incompressible
as real MP3 and MP4: an episode 30 MB (about 42 minutes of 96 kbit/s MP3), a clip 3 MB (30 s of a 1080×1920
audiogram at 800 kbit/s); --quick uses a tenth of each.

Timed: ``create_backup`` to a plain .tar and to a .tar.gz (gzip level 6), and ``restore_backup`` of the
.tar into a new, empty home (both passes over the archive, one fsync per restored file, the row counts, the
posts settled); the median of the runs. Also the database snapshot alone (``database.snapshot``). The page
cache is warm (the home was just written): these are times without disk reads of the media.

The peer, timed in the same run on the same home: GNU tar writing the home to a .tar and extracting it
(no snapshot, no checksums, no fsync, no checks); the ratios say what Castmill's safety costs.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA_DIR, MB, ROOT, git_state, load_result, log, machine_info, save_result, wait_for_quiet, write_own_section,
)

sys.path.insert(0, str(ROOT))
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
SECTION = "## 13. Backups: archive size, backup and restore time"
TARGET_PREFIX = "| Backups:"
RUNS, QUICK_RUNS = 3, 1
CLIENTS, EPISODES_EACH, HIGHLIGHTS = ("acme", "globex"), 25, 3
EPISODE_BYTES, CLIP_BYTES = 30 * MB, 3 * MB
POSTS_PER_STATE = 12  # × 8 states = 96 posts


def build_home(folder: Path, scale: float):
    from pipeline.core.settings import load_settings
    from pipeline.store.db import Database
    from tests.helpers.backup import seed_home

    home = folder / "home"
    for variable in ("CASTMILL_DATABASE_URL", "CASTMILL_MEDIA_URL", "CASTMILL_SECRET_KEY"):
        os.environ.pop(variable, None)
    os.environ["CASTMILL_HOME"] = str(home)
    settings = load_settings(home)
    db = Database(settings.database_url)
    began = time.perf_counter()
    seed_home(settings, db, clients=CLIENTS, episodes=EPISODES_EACH, highlights=HIGHLIGHTS,
              media_bytes=int(EPISODE_BYTES * scale), clip_bytes=int(CLIP_BYTES * scale),
              posts_per_state=POSTS_PER_STATE)
    db.dispose()
    log(f"seeded {home} in {time.perf_counter() - began:.1f} s")
    return load_settings(home)


def time_snapshot(settings, folder: Path, runs: int) -> dict:
    from pipeline.store.backup.database import snapshot

    seconds, size = [], 0
    for n in range(runs):
        work = folder / f"snapshot-{n}"
        work.mkdir()
        began = time.perf_counter()
        snap = snapshot(settings.database_url, work, lambda connection: {})
        seconds.append(time.perf_counter() - began)
        size, gzipped = snap.path.stat().st_size, len(gzip.compress(snap.path.read_bytes(), compresslevel=6))
        shutil.rmtree(work)
    return {"runs_s": seconds, "median_s": statistics.median(seconds), "bytes": size, "gzip_bytes": gzipped}


def time_backups(settings, folder: Path, runs: int, compress: bool) -> dict:
    from pipeline.store.backup import create_backup

    seconds, result = [], None
    for n in range(runs):
        dest = folder / f"backups-{'gz' if compress else 'tar'}-{n}"
        result = create_backup(settings, dest, compress=compress)
        seconds.append(result.seconds)
        if n < runs - 1:
            shutil.rmtree(dest)
    return {"runs_s": seconds, "median_s": statistics.median(seconds), "bytes": result.bytes,
            "path": str(result.path),
            "files": result.files, "file_bytes": result.file_bytes, "rows": sum(result.row_counts.values()),
            "drafts": result.row_counts["drafts"], "episodes": result.row_counts["episodes"],
            "clips": result.row_counts["clips"], "posts": result.row_counts["scheduled_posts"]}


def time_restores(archive: Path, folder: Path, runs: int) -> dict:
    from pipeline.store.backup import restore_backup

    seconds, result = [], None
    for n in range(runs):
        target = folder / f"restored-{n}"
        began = time.perf_counter()
        result = restore_backup(archive, target)
        seconds.append(time.perf_counter() - began)
        shutil.rmtree(target)
    return {"runs_s": seconds, "median_s": statistics.median(seconds), "files": result.files,
            "in_flight": len(result.in_flight), "due": len(result.due)}


def time_gnu_tar(settings, folder: Path, runs: int) -> dict:
    """The peer: `tar -cf` of the whole home and `tar -xf` of that archive into an empty folder."""
    create, extract, size = [], [], 0
    for n in range(runs):
        archive = folder / f"peer-{n}.tar"
        began = time.perf_counter()
        subprocess.run(["tar", "-cf", str(archive), "-C", str(settings.home), "."], check=True)
        create.append(time.perf_counter() - began)
        size = archive.stat().st_size
        target = folder / f"peer-{n}"
        target.mkdir()
        began = time.perf_counter()
        subprocess.run(["tar", "-xf", str(archive), "-C", str(target)], check=True)
        extract.append(time.perf_counter() - began)
        archive.unlink()
        shutil.rmtree(target)
    return {"create_runs_s": create, "create_median_s": statistics.median(create), "extract_runs_s": extract,
            "extract_median_s": statistics.median(extract), "bytes": size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} run of each, media a tenth of the size")
    parser.add_argument("--write-section", action="store_true", help="rewrite section 13 of BENCHMARKS.md")
    parser.add_argument("--report-only", action="store_true", help="print (or rewrite) section 13 from the saved run")
    args = parser.parse_args()
    if args.report_only:
        data = load_result("backup")
        if data is None:
            sys.exit("error: no saved result: run benchmarks/bench_backup.py first")
        print(render_section(data))
        if args.write_section:
            write_section(data)
        return 0
    started, git_start = time.perf_counter(), git_state()
    runs, scale = (QUICK_RUNS, 0.1) if args.quick else (RUNS, 1.0)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=DATA_DIR))
    try:
        settings = build_home(folder, scale)
        waited = wait_for_quiet()
        snap = time_snapshot(settings, folder, runs)
        log(f"database snapshot: median {snap['median_s']:.3f} s, {snap['bytes'] / MB:.1f} MB")
        plain = time_backups(settings, folder, runs, compress=False)
        log(f"backup .tar: median {plain['median_s']:.2f} s, {plain['bytes'] / MB:.1f} MB")
        gzipped = time_backups(settings, folder, runs, compress=True)
        log(f"backup .tar.gz: median {gzipped['median_s']:.2f} s, {gzipped['bytes'] / MB:.1f} MB")
        restore = time_restores(Path(plain["path"]), folder, runs)
        log(f"restore of the .tar: median {restore['median_s']:.2f} s")
        peer = time_gnu_tar(settings, folder, runs)
        log(f"GNU tar of the home: create {peer['create_median_s']:.2f} s, extract {peer['extract_median_s']:.2f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    data = {"machine": machine_info(), "git_at_start": git_start, "elapsed_s": time.perf_counter() - started,
            "quick": args.quick, "quiet_wait_s": waited, "scale": scale, "episode_bytes": int(EPISODE_BYTES * scale),
            "clip_bytes": int(CLIP_BYTES * scale), "snapshot": snap, "tar": plain, "tar_gz": gzipped,
            "restore": restore, "gnu_tar": peer}
    save_result("backup", data, quick=args.quick)
    print(render_section(data))
    if args.write_section and not args.quick:
        write_section(data)
    return 0


def render_section(data: dict) -> str:
    """Section 13 of BENCHMARKS.md."""
    plain, gzipped, restore, snap = data["tar"], data["tar_gz"], data["restore"], data["snapshot"]
    runs = len(plain["runs_s"])
    saved = 1 - gzipped["bytes"] / plain["bytes"]
    lines = [SECTION, "",
             "Measured by `.venv/bin/python benchmarks/bench_backup.py --write-section` on "
             f"{data['machine']['date']} (git {data['git_at_start']}; {data['machine']['cores']} cores).", "",
             f"A SQLite home made by `tests/helpers/backup.seed_home`: {plain['episodes']} episodes of 2 clients, "
             f"{plain['drafts']:,} drafts from the real generator, {plain['clips']} rendered clips, {plain['posts']} "
             f"scheduled posts in every state, {plain['rows']:,} rows in all; {plain['files']} files of "
             f"{plain['file_bytes'] / MB:,.0f} MB. Media are random bytes (as incompressible as MP3 and MP4): an "
             f"episode {data['episode_bytes'] / MB:.1f} MB, a clip {data['clip_bytes'] / MB:.1f} MB"
             f"{_sizes_note(data)}. The database holds no transcripts (their word timings would make it larger "
             f"and more compressible). The page cache was warm. Median of {runs} run(s){_load_note(data)}.", "",
             "| | Time | Archive |", "|---|---|---|",
             f"| Database snapshot alone (online backup API) | {snap['median_s']:.2f} s | "
             f"{snap['bytes'] / MB:.1f} MB ({snap['gzip_bytes'] / MB:.2f} MB gzipped) |",
             f"| `castmill backup` (.tar) | **{plain['median_s']:.1f} s** | **{plain['bytes'] / MB:,.0f} MB** |",
             f"| `castmill backup --gzip` (.tar.gz, level 6) | {gzipped['median_s']:.1f} s | "
             f"{gzipped['bytes'] / MB:,.0f} MB ({saved:.1%} smaller) |",
             f"| `castmill restore` of the .tar | **{restore['median_s']:.1f} s** | |",
             *_peer_rows(data), "",
             f"The restore reads the archive twice (every member's checksum before anything is written, then again "
             f"as each file is written and fsynced), checks every table's row count ({plain['rows']:,} rows) and "
             "settled "
             f"{restore['in_flight']} in-flight and {restore['due']} due post(s) for reconciliation. gzip "
             f"{'is not worth its time here: the media do not compress' if saved < 0.05 else 'pays off here'}; "
             "plain .tar stays the default, `--gzip` is there for a home whose database is most of it.", ""]
    return "\n".join(lines)


def _peer_rows(data: dict) -> list[str]:
    peer = data.get("gnu_tar")
    if not peer:
        return []
    backup = data["tar"]["median_s"] / peer["create_median_s"]
    restore = data["restore"]["median_s"] / peer["extract_median_s"]
    return [f"| Peer, same run: GNU `tar -cf` of the whole home | {peer['create_median_s']:.1f} s | "
            f"{peer['bytes'] / MB:,.0f} MB |",
            f"| Peer, same run: GNU `tar -xf` of it | {peer['extract_median_s']:.1f} s | |",
            f"| **Ratio** backup / tar, restore / untar | **{backup:.2f}×**, **{restore:.2f}×** | |"]


def _load_note(data: dict) -> str:
    if data.get("quiet_wait_s", 0) >= 180:
        return "; other processes kept the cores busy throughout, so these times are upper bounds"
    return ""


def _sizes_note(data: dict) -> str:
    if data["scale"] == 1.0:
        return " (about 42 minutes of 96 kbit/s MP3, and 30 s of a 1080×1920 audiogram at 800 kbit/s)"
    return f" ({data['scale']:g} of the full run's sizes: --quick)"


def target_rows(data: dict) -> list[str]:
    plain, restore, peer = data["tar"], data["restore"], data.get("gnu_tar")
    ratios = (f" ({plain['median_s'] / peer['create_median_s']:.2f}× / {restore['median_s'] / peer['extract_median_s']:.2f}× "
              "GNU tar's, same run)") if peer else ""
    return [f"{TARGET_PREFIX} backup / restore of {plain['drafts']:,} drafts and {plain['episodes']} episodes, "
            f"{plain['bytes'] / MB:,.0f} MB (no target) | {plain['median_s']:.1f} s / {restore['median_s']:.1f} s"
            f"{ratios} | — |"]


def write_section(data: dict) -> None:
    write_own_section(BENCHMARKS_MD, SECTION, render_section(data), TARGET_PREFIX, target_rows(data))


if __name__ == "__main__":
    sys.exit(main())
