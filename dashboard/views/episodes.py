"""Episodes (VA and admin): add episodes (upload or feed URL) to process here or on the job queue, the queue's
jobs with their worker, batch status per stage, name the speakers, re-run a stage. ``?episode=ID`` (the link in
a new-episode notice) shows that episode alone."""

import streamlit as st

from dashboard import data
from dashboard.auth_gate import require
from dashboard.components import StreamlitReporter, client_filter, run_action, show_error
from pipeline.core.errors import CastmillError
from pipeline.core.vocab import MEDIA_EXTENSIONS
from pipeline.core.vocab import DONE, STAGES
from pipeline.transcribe.languages import describe_shares

identity = require("episodes")
st.title("Episodes")
slugs = data.client_slugs()
if not slugs:
    st.info("No clients yet. Add one with `castmill client add SLUG --name NAME`.")
    st.stop()

MEDIA_TYPES = sorted(ext.lstrip(".") for ext in MEDIA_EXTENSIONS)


def report_outcome(report) -> None:
    """The batch result: errors exactly as the library raised them."""
    done = len(report.outcomes) - len(report.failed)
    (st.success if report.ok else st.warning)(f"{done} episode(s) ready, {len(report.failed)} failed.")
    for outcome in report.failed:
        show_error(outcome.error or f"{outcome.source}: failed")


def run_batch(work) -> None:
    box = st.container(border=True)
    try:
        report = work(StreamlitReporter(box))
    except CastmillError as exc:
        show_error(exc)
        return
    report_outcome(report)


def add_episodes() -> None:
    with st.expander("Add episodes", icon=":material/add:", expanded=False):
        client = st.selectbox("For client", slugs, key="add_client")
        files = st.file_uploader("Audio or video files", type=MEDIA_TYPES, accept_multiple_files=True,
                                 key="add_files")
        feed = st.text_input("…or an RSS/Atom feed URL (newest episodes)", key="add_feed",
                             placeholder="https://example.com/feed.xml")
        queued = data.queue_available() and st.toggle(
            "Send to the job queue", value=True, key="add_queued",
            help="Workers on any machine (`castmill worker`) process the episodes; follow them under Jobs below.")
        if st.button("Process", key="add_process", type="primary", disabled=not (files or feed.strip())):
            inputs = [str(data.save_upload(client, f.name, f.getvalue())) for f in files or []]
            inputs += [feed.strip()] if feed.strip() else []
            if queued:
                queue_batch(client, inputs)
            else:
                run_batch(lambda reporter: data.process(identity, client, inputs, reporter))


def queue_batch(client: str, inputs: list[str]) -> None:
    try:
        report = data.enqueue(identity, client, inputs)
    except CastmillError as exc:
        show_error(exc)
        return
    (st.success if report.ok else st.warning)(
        f"{len(report.sources) - len(report.failed)} episode(s) queued, {len(report.failed)} failed.")
    for item in report.failed:
        show_error(f"{item.source}: {item.error}")


def job_table(client: str | None) -> None:
    """Each job's state and the worker that ran it, with retry and cancel."""
    jobs = data.jobs(identity, client)
    with st.expander(f"Jobs ({sum(j.status in ('todo', 'doing') for j in jobs)} waiting or running)",
                     icon=":material/dns:", expanded=any(j.status in ("todo", "doing") for j in jobs)):
        if not jobs:
            st.caption("No jobs yet. Send episodes to the queue above, or `castmill process --queue`.")
            return
        st.dataframe([{"job": j.id, "stage": j.stage, "status": j.status, "runs": j.attempts, "client": j.client,
                       "episode": j.episode_id, "title": j.title, "worker": j.worker, "error": j.error}
                      for j in jobs], hide_index=True, key="jobs_table")
        columns = st.columns([2, 1, 1])
        job_id = columns[0].selectbox("Job", [j.id for j in jobs], key="job_pick")
        if columns[1].button("Retry", key="job_retry"):
            run_action(lambda _session: data.retry_job(identity, job_id), f"Job {job_id} queued again.")
        if columns[2].button("Cancel", key="job_cancel"):
            run_action(lambda _session: data.cancel_job(identity, job_id), f"Job {job_id} cancelled.")


def focused(rows) -> list:
    """The one episode ``?episode=ID`` names, with a way back to all; every row without it (or when it is not
    among them)."""
    raw = st.query_params.get("episode")
    if raw is None:
        return rows
    chosen = [r for r in rows if str(r.id) == raw]
    if not chosen:
        st.warning(f"Episode {raw} is not among the episodes listed here.")
        return rows
    if st.button("Show every episode", key="unfocus_episode", icon=":material/arrow_back:"):
        del st.query_params["episode"]
        st.rerun()
    return chosen


def status_table(rows) -> None:
    st.dataframe(
        [
            {
                "id": r.id,
                "client": r.client,
                "title": r.title,
                "minutes": round(r.duration / 60, 1),
                **r.stages,
                "progress": sum(status == DONE for status in r.stages.values()) / len(STAGES),
                "error": r.error or "",
                "languages": describe_shares(r.languages),
                "warnings": " · ".join(r.warnings),
            }
            for r in rows
        ],
        hide_index=True,
        key="episodes_table",
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0,
                                                                   format="percent")},
    )


def speaker_names(rows) -> None:
    with st.expander("Speakers", icon=":material/record_voice_over:"):
        titles = {r.id: f"{r.id}: {r.title} ({r.client})" for r in rows}
        episode_id = st.selectbox("Episode", list(titles), format_func=titles.get, key="speakers_episode")
        try:
            found = data.speakers(identity, episode_id)
        except CastmillError as exc:
            show_error(exc)
            return
        if not found:
            st.caption("No speaker labels: the episode is not transcribed yet, or the client's profile has "
                       "speakers = \"off\".")
            return
        st.caption("Names appear in captions, highlight reasons and posts that credit a quote. "
                   "Re-run the drafts stage to put new names into existing drafts.")
        names = {s.label: st.text_input(f"{s.label} · speaks {s.share:.0%} ({s.seconds / 60:.1f} min)",
                                        value="" if s.name == s.label else s.name, placeholder=s.label,
                                        key=f"speaker_{episode_id}_{s.label}")
                 for s in found}
        if st.button("Save names", key="speakers_save"):
            try:
                data.rename_speakers(identity, episode_id, names)
            except CastmillError as exc:
                show_error(exc)
                return
            st.success("Speaker names saved.")


def rerun_controls(rows) -> None:
    with st.expander("Re-run a stage", icon=":material/replay:"):
        titles = {r.id: f"{r.id}: {r.title} ({r.client})" for r in rows}
        columns = st.columns(2)
        episode_id = columns[0].selectbox("Episode", list(titles), format_func=titles.get, key="rerun_episode")
        stage = columns[1].selectbox("Stage", STAGES, key="rerun_stage")
        if st.button("Re-run", key="rerun_go"):
            run_batch(lambda reporter: data.rerun_stage(identity, episode_id, stage, reporter))


add_episodes()
chosen = client_filter(st, slugs, "episodes_client")
if data.queue_available():
    job_table(chosen)
rows = data.episodes(chosen)
if not rows:
    st.info("No episodes yet. Add some above, or with `castmill process --client SLUG FILES…`.")
    st.stop()
rows = focused(rows)
status_table(rows)
for row in (r for r in rows if r.error):
    show_error(f"Episode {row.id} ({row.title}): {row.error}")
speaker_names(rows)
rerun_controls(rows)
