"""Draft posts: sandboxed templates rendered per platform, fitted, stored as immutable versions.

Modules: ``templates`` (the sandbox), ``context`` (what templates see), ``generate``
(the drafts stage), ``queries`` (listing and rule checks).
"""
