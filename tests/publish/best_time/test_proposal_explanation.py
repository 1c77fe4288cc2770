"""A stored slot proposal explains itself in lines: what was measured, each new slot's rate and range."""

from __future__ import annotations

from pipeline.publish.best_time import format_rate
from pipeline.publish.slot_proposals import explanation, propose
from pipeline.store.models import SlotProposal
from tests.helpers.calendar import staff_identity
from tests.helpers.engagement import NOW


def test_the_explanation_names_the_evidence_and_each_new_slot(truth):
    with truth.session() as session:
        va = staff_identity(session, "va@castmill.test", "va")
        [outcome] = propose(session, va, "acme", now=NOW, platform="linkedin")
        row = session.get(SlotProposal, outcome.proposal_id)
        lines = explanation(row)
        evidence = row.evidence
    measure = evidence["measure"]
    assert lines[0] == (f"From {evidence['posts']} posts measured {measure.replace('_', ' ')}; the current slots "
                        f"(mon 12:00, wed 12:00, fri 12:00) get {format_rate(measure, evidence['baseline']['rate'])}.")
    new = [s for s in evidence["slots"] if s["new"]]
    rate = lambda value: format_rate(measure, value)  # noqa: E731
    assert lines[1:] == [f"{s['day']} {s['time']}: {s['posts']} posts, {rate(s['rate'])} ({rate(s['low'])} – "
                         f"{rate(s['high'])}), replaces {s['replaces']}." for s in new]
    assert {"tue 09:00", "thu 17:00"} <= {line[:9] for line in lines[1:]}  # the known best times
