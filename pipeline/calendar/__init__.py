"""The publishing calendar: posting slots in the client's zone, scheduling approved drafts,
what the calendar shows, and the iCal feed.

``scheduling`` holds the rules (slots, schedule, reschedule, cancel, resolve), ``views`` the
calendar entries a viewer may see, ``ics`` the RFC 5545 export, ``options`` the defaults. Time
helpers are in ``pipeline.core.clock``. Everything public is reachable from here
(``from pipeline import calendar``), loaded on first use so that ``calendar.options`` stays cheap.
"""

import importlib

_FROM = {
    "PREVIEW_CHARS": "scheduling", "ScheduleError": "scheduling", "auto_schedule": "scheduling", "cancel": "scheduling",
    "next_free_slot": "scheduling", "reschedule": "scheduling", "resolve": "scheduling", "schedule": "scheduling",
    "slot_times": "scheduling",
    "CalendarEntry": "views", "entries": "views", "post_entry": "views", "local_day_range": "views",
    "export_ics": "ics",
}
_RENAMED = {"export_ics": "client_feed", "STATUS_COLOURS": "POST_STATUS_COLOURS"}
_CORE = {"to_local": "pipeline.core.clock", "to_utc": "pipeline.core.clock", "zone": "pipeline.core.clock",
         "STATUS_COLOURS": "pipeline.core.vocab"}

__all__ = sorted([*_FROM, *_CORE])


def __getattr__(name: str):
    if name in _FROM:
        module = f"pipeline.calendar.{_FROM[name]}"
    elif name in _CORE:
        module = _CORE[name]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value
