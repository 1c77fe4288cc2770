"""Sign in: the signed-out default page. app.py draws the same form on every signed-out URL itself."""

from dashboard.sign_in_form import sign_in_form

sign_in_form()
