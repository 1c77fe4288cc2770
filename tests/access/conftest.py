"""Access tests share the review tests' world of clients, users and drafts (and their cheap hashing)."""

from tests.review.conftest import cheap_hashing, production_hasher, world  # noqa: F401  (fixtures)
