"""The files of a home in a backup, what the rows refer to outside it, and paths moved on restore.

Backed up: every regular file under ``$CASTMILL_HOME`` (castmill.toml, secret.key, media/ with feed
downloads, uploads/, clips/, templates/, covers/, outbox/ …) except the database's own files, model
weights (``models/``), caches (``cache/``) and the folder the archives go to when it lies inside the home.
Symbolic links are not followed.

Rows keep absolute paths (an episode's media, a clip, a client's templates folder, a draft's media, an
outbox account's folder). A home restored at another path has them rewritten from the old home to the new
one (``move_paths``); paths outside the home are left as they are. The audit trail is never rewritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, bindparam, func, select, update

from pipeline.store.models import Account, Base, Client, Clip, Episode

NOT_BACKED_UP = ("models", "cache")  # weights and caches: fetched or rebuilt, never backed up
# Table -> columns that may hold paths under the home (text, or JSON with paths inside).
PATH_COLUMNS = {
    "episodes": ("media_path", "source_uri"),
    "clips": ("path", "probe"),
    "clients": ("templates_dir", "clip_settings"),
    "draft_versions": ("media",),
    "accounts": ("base_url",),
    "scheduled_posts": ("remote_url",),
    "publish_attempts": ("remote_url",),
}


@dataclass(frozen=True)
class HomeFiles:
    files: list[tuple[str, Path]]  # (path relative to the home, with "/", the file)
    links: list[str]  # symbolic links left out


def home_files(home: Path, skip: set[Path]) -> HomeFiles:
    """The files to back up under ``home``, sorted; ``skip`` holds files and folders to leave out."""
    home = Path(home)
    skip = {Path(p) for p in skip} | {home / name for name in NOT_BACKED_UP}
    files, links = [], []
    for folder, dirs, names in os.walk(home):
        here = Path(folder)
        links += [str((here / d).relative_to(home)) for d in dirs if (here / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if here / d not in skip and not (here / d).is_symlink())
        for name in sorted(names):
            path = here / name
            if path in skip or name.startswith(".castmill-backup-"):
                continue
            if path.is_symlink():
                links.append(str(path.relative_to(home)))
            elif path.is_file():
                files.append((path.relative_to(home).as_posix(), path))
    return HomeFiles(files, links)


def sqlite_files(database: Path) -> set[Path]:
    return {database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")}


# --- what the rows refer to -------------------------------------------------------------------------------

def stored_facts(connection: Connection, home: Path) -> dict:
    """Read from the snapshot: files the rows name outside the home, and how many tokens are encrypted."""
    media = connection.execute(select(Episode.__table__.c.media_path)).scalars()
    clips = connection.execute(select(Clip.__table__.c.path).where(Clip.__table__.c.status == "ready")).scalars()
    templates = connection.execute(select(Client.__table__.c.templates_dir)).scalars()
    accounts = Account.__table__
    tokens = connection.execute(select(func.count()).select_from(accounts)
                                .where(accounts.c.token_encrypted != "")).scalar_one()
    return {"outside_media": _outside(media, home), "outside_clips": _outside(clips, home),
            "outside_templates": _outside(templates, home), "encrypted_tokens": tokens}


def _outside(paths, home: Path) -> list[str]:
    """The local paths among ``paths`` that are not under ``home`` (s3:// refs and empty values excluded)."""
    prefix = str(home).rstrip("/") + "/"
    return sorted({p for p in paths if p and p.startswith("/") and not p.startswith(prefix)})


# --- moving paths to the new home ---------------------------------------------------------------------------

def move_paths(connection: Connection, old: str, new: str) -> int:
    """Rewrite paths under the home ``old`` to the home ``new`` in PATH_COLUMNS; returns the rows changed."""
    if old.rstrip("/") == new.rstrip("/"):
        return 0
    mover = _Mover(old.rstrip("/"), new.rstrip("/"))
    changed = 0
    for name, columns in PATH_COLUMNS.items():
        table = Base.metadata.tables[name]
        rows = connection.execute(select(table.c.id, *(table.c[c] for c in columns))).all()
        moved = [{"row_id": row.id, **{f"new_{c}": mover.move(row._mapping[c]) for c in columns}} for row in rows]
        moved = [values for row, values in zip(rows, moved)
                 if any(values[f"new_{c}"] != row._mapping[c] for c in columns)]
        if moved:  # one statement, many parameter sets
            connection.execute(update(table).where(table.c.id == bindparam("row_id"))
                               .values({c: bindparam(f"new_{c}", type_=table.c[c].type) for c in columns}), moved)
            changed += len(moved)
    return changed


class _Mover:
    def __init__(self, old: str, new: str):
        self.pairs = ((old, new), (Path(old).as_uri(), Path(new).as_uri()))

    def move(self, value):
        if isinstance(value, str):
            for old, new in self.pairs:
                if value == old or value.startswith(old + "/"):
                    return new + value[len(old):]
            return value
        if isinstance(value, list):
            return [self.move(v) for v in value]
        if isinstance(value, dict):
            return {k: self.move(v) for k, v in value.items()}
        return value
