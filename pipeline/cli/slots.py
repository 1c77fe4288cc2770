"""``castmill slots …``: posting slots proposed from the client's engagement, accepted or rejected by the VA.

The CLI acts as the system: one staff identity (``cli_identity``) for every command.
"""

from __future__ import annotations

import json

import click

from pipeline.cli.support import cli_identity, database_of, friendly_errors, settings_of
from pipeline.core.clock import utcnow


def _slots_text(slots: list[dict]) -> str:
    return "; ".join(f"{','.join(slot['days'])} {slot['time']}" for slot in slots) or "none"


@click.group("slots")
def slots() -> None:
    """Posting slots learned from the client's engagement: propose, then accept or reject.

    Examples:

    \b
        castmill slots propose --client acme
        castmill slots accept 3
        castmill slots reject 4
    """


@slots.command("propose")
@click.option("--client", "client_slug", required=True, help="Client slug.")
@click.option("--platform", help="Only this platform (default: every platform the client posts on or has slots for).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: each platform's proposal id and evidence.")
@click.pass_context
@friendly_errors
def slots_propose(ctx, client_slug, platform, as_json) -> None:
    """Estimate engagement per weekday and time block and propose better posting slots.

    A platform needs enough published posts with settled numbers ([best_time] min_posts); otherwise
    the reason is printed and nothing is stored. A proposal replaces the weakest current slots only
    with time blocks that beat them clearly ([best_time] margin), keeping the number of slots.

    Example:

        castmill slots propose --client acme --platform linkedin
    """
    from pipeline.publish.options import BestTimeOptions
    from pipeline.publish.slot_proposals import propose

    options = BestTimeOptions.from_settings(settings_of(ctx).best_time)
    with database_of(ctx).session() as session:
        outcomes = propose(session, cli_identity(), client_slug, now=utcnow(), options=options, platform=platform)
        rows = [_outcome_dict(o) for o in outcomes]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row, outcome in zip(rows, outcomes):
        _say_outcome(row, outcome.analysis)


def _outcome_dict(outcome) -> dict:
    analysis = outcome.analysis
    return {"platform": analysis.platform, "proposal_id": outcome.proposal_id, "reused": outcome.reused,
            "current_slots": analysis.current_posting_slots(),
            "proposed_slots": analysis.posting_slots() if analysis.has_proposal else [],
            "reason": analysis.reason, "evidence": analysis.evidence()}


def _say_outcome(row: dict, analysis) -> None:
    if row["proposal_id"] is None:
        click.echo(f"{analysis.platform}: no proposal: {analysis.reason}")
        return
    again = " (unchanged, already open)" if row["reused"] else ""
    click.echo(f"{analysis.platform}: proposal {row['proposal_id']}{again}, from {analysis.posts} posts "
               f"measured {analysis.measure.replace('_', ' ')}; current slots {analysis.rate_text(analysis.baseline)}")
    click.echo(f"  now:      {_slots_text(row['current_slots'])}")
    click.echo(f"  proposed: {_slots_text(row['proposed_slots'])}")
    for slot in analysis.new_slots:
        click.echo(f"  {slot.day} {slot.time}: {slot.posts} posts, {analysis.rate_text(slot.rate)} "
                   f"({analysis.rate_text(slot.low)} – {analysis.rate_text(slot.high)})"
                   + (f", replaces {slot.replaces}" if slot.replaces else ""))
    click.echo(f"  accept: castmill slots accept {row['proposal_id']}")


@slots.command("accept")
@click.argument("proposal_id", type=int)
@click.pass_context
@friendly_errors
def slots_accept(ctx, proposal_id) -> None:
    """Make a proposal's slots the client's posting slots for its platform (recorded in the audit log).

    Example:

        castmill slots accept 3
    """
    from pipeline.publish.slot_proposals import accept

    with database_of(ctx).session() as session:
        row = accept(session, cli_identity(), proposal_id, now=utcnow())
        click.echo(f"accepted proposal {row.id}: {row.platform} slots are now {_slots_text(row.slots)} "
                   f"(were {_slots_text(row.current_slots)})")


@slots.command("reject")
@click.argument("proposal_id", type=int)
@click.pass_context
@friendly_errors
def slots_reject(ctx, proposal_id) -> None:
    """Turn a proposal down; the client's slots stay as they are.

    Example:

        castmill slots reject 4
    """
    from pipeline.publish.slot_proposals import reject

    with database_of(ctx).session() as session:
        row = reject(session, cli_identity(), proposal_id, now=utcnow())
        click.echo(f"rejected proposal {row.id}: {row.platform} slots stay {_slots_text(row.current_slots)}")


@slots.command("list")
@click.option("--client", "client_slug", required=True, help="Client slug.")
@click.option("--status", type=click.Choice(["proposed", "accepted", "rejected", "superseded"]),
              help="Only proposals with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def slots_list(ctx, client_slug, status, as_json) -> None:
    """The client's slot proposals, newest first.

    Example:

        castmill slots list --client acme --status proposed
    """
    from pipeline.core.clock import as_utc
    from pipeline.publish.slot_proposals import proposals

    with database_of(ctx).session() as session:
        rows = [{"id": p.id, "platform": p.platform, "status": p.status, "slots": p.slots,
                 "current_slots": p.current_slots, "created_at": as_utc(p.created_at).isoformat(),
                 "decided_by": p.decided_by, "decided_at": as_utc(p.decided_at).isoformat() if p.decided_at else None}
                for p in proposals(session, cli_identity(), client_slug, status=status)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no slot proposals")
    for row in rows:
        decided = f", by {row['decided_by']}" if row["decided_by"] else ""
        click.echo(f"{row['id']:>4}  {row['platform']:<10} {row['status']:<10} {_slots_text(row['slots'])}{decided}")
