"""Media files: probing with ffprobe, streaming audio decode and levels, resumable downloads, and safe fetching
of user-supplied URLs."""
