"""Clips: audiograms and vertical videos with word-synced captions, audio snippets, pre-flight checks.

Modules: ``spec`` (what a clip is), ``captions`` (pages, karaoke ASS, SRT/VTT),
``render_ffmpeg`` (the default engine), ``snippets`` (pydub cut/fade + loudness),
``preflight`` (ffprobe against platform rules), ``stage`` (render and record).
"""
