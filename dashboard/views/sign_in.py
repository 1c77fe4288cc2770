"""Sign in: email and password (or a review link with ?token=)."""

from dashboard.sign_in_form import sign_in_form

sign_in_form()
