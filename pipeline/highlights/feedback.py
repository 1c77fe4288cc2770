"""Good/bad labels on highlights, and per-client weights re-fitted from them.

The re-fit is a logistic regression of the label on the explained features.
Its coefficients become weights (negative ones clipped to 0: a feature that
predicts "bad" is switched off rather than inverted, so reasons stay truthful),
blended with the weights in use by how much evidence there is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.core.errors import CastmillError, NotFoundError
from pipeline.highlights.options import FeatureWeights
from pipeline.store.models import Client, Highlight, HighlightFeedback

LABELS = ("good", "bad")
# Fewer labels than this cannot say anything about nine weights.
MIN_LABELS = 10
# With this many labels the fitted weights count as much as the ones in use.
BLEND_HALF_POINT = 30


class FeedbackError(CastmillError):
    """Labels are missing or cannot support a re-fit."""


@dataclass(frozen=True)
class FitReport:
    client: str
    labels: int
    good: int
    bad: int
    weights: dict[str, float]
    training_accuracy: float


def add_feedback(session: Session, highlight_id: int, label: str, *, author: str = "", note: str = "",
                 client_slug: str | None = None) -> HighlightFeedback:
    """Store a label; ``client_slug`` (when given) must own the highlight."""
    if label not in LABELS:
        raise FeedbackError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    highlight = session.get(Highlight, highlight_id)
    client = highlight.episode.client if highlight else None
    if highlight is None or (client_slug and client.slug != client_slug):
        raise NotFoundError(f"no highlight {highlight_id}" + (f" for client {client_slug}" if client_slug else ""))
    row = HighlightFeedback(client_id=client.id, highlight_id=highlight.id, label=label,
                            features=dict(highlight.features), author=author, note=note)
    session.add(row)
    session.flush()
    return row


def refit_weights(session: Session, client: Client, current: FeatureWeights, *, save: bool = True) -> FitReport:
    """Fit weights from the client's labels; stores them on the client unless ``save`` is False."""
    from sklearn.linear_model import LogisticRegression

    rows = list(session.scalars(select(HighlightFeedback).where(HighlightFeedback.client_id == client.id)))
    names = current.names()
    labels = np.array([r.label == "good" for r in rows], dtype=int)
    if len(rows) < MIN_LABELS or labels.min(initial=1) == labels.max(initial=0):
        raise FeedbackError(f"client {client.slug} has {int(labels.sum())} good and {int(len(labels) - labels.sum())} "
                            f"bad labels; a re-fit needs at least {MIN_LABELS} labels including both kinds")
    features = np.array([[_value(r.features.get(n)) for n in names] for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(features, labels)
    fitted = np.clip(model.coef_[0], 0.0, None)
    weights = _blend(current, fitted, len(rows))
    report = FitReport(client.slug, len(rows), int(labels.sum()), int(len(rows) - labels.sum()), weights,
                       float(model.score(features, labels)))
    if save:
        client.fitted_weights = {"weights": weights, "labels": len(rows), "accuracy": report.training_accuracy}
    return report


def _value(value) -> float:
    return 0.5 if value is None else float(value)  # an unmeasured feature sits at the middle


def _blend(current: FeatureWeights, fitted: np.ndarray, n: int) -> dict[str, float]:
    prior = np.array([current.normalized()[name] for name in current.names()])
    if fitted.sum() > 0:
        fitted = fitted / fitted.sum()
    share = n / (n + BLEND_HALF_POINT) if fitted.sum() > 0 else 0.0
    blended = (1 - share) * prior + share * fitted
    return {name: round(float(v), 4) for name, v in zip(current.names(), blended)}


def client_feedback(session: Session, client: Client) -> list[HighlightFeedback]:
    return list(session.scalars(select(HighlightFeedback).where(HighlightFeedback.client_id == client.id)
                                .order_by(HighlightFeedback.id)))

