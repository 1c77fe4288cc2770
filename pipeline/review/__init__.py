"""Review and approval: the rules the dashboard calls (edit, comment, approve, reject …).

``workflow`` holds the write side and its rules, ``queries`` the read side (cards, versions,
comments), ``diff`` the word diff shown on an edit conflict, ``preview`` the script-free HTML of a
long-form draft, ``options`` the limits. Everything
public is reachable from here (``from pipeline import review``; ``review.approve(...)``), loaded
on first use so that importing ``pipeline.review.options`` stays cheap.
"""

import importlib

__all__ = [
    "APPROVED", "CHANGES_REQUESTED", "CLIENT_REVIEW", "DRAFT", "REJECTED", "STAGE_CLIENT", "STAGE_VA", "STATUSES",
    "ApprovalInfo", "ApprovalRefused", "ApprovalResult", "CommentInfo", "DiffToken", "DraftCard", "EditConflict",
    "EditResult", "ReviewError", "VersionInfo", "approve", "approve_by_rule", "approved_version", "bulk_approve", "comment", "comments",
    "draft_detail", "draft_preview", "edit", "hash_of", "latest_version", "needs_action_by", "queue", "reject", "request_changes",
    "version_hash", "versions", "violations_of", "visible_draft", "word_diff",
]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "pipeline.review.preview" if name == "draft_preview" else "pipeline.review.workflow"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
