"""Long-form content from an episode: chapters, show notes, blog posts and newsletters.

Sits above clips (it links to them) and below drafts (which turn it into reviewable drafts).
"""
