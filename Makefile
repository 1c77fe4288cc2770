# Castmill: `make demo` and `make test` do everything on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
CASTMILL := $(VENV)/bin/castmill
STAMP := $(VENV)/.castmill-installed
# torch's CPU wheel: where this machine kind keeps it; PyPI's default build pulls CUDA.
TORCH_WHEELS ?= /opt/wheels
TORCH_SPEC := torch==2.13.0
DASHBOARD_PORT ?= 8501
# 0.0.0.0 to let clients on other machines reach it.
DASHBOARD_ADDRESS ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: help setup system venv test demo demo-run dashboard bench eval sample clean

help:
	@echo "make demo   install, process the bundled sample episode, start the dashboard"
	@echo "make test   install, run the whole test suite (real models, ffmpeg, PostgreSQL)"
	@echo "make bench  run the benchmarks and rewrite BENCHMARKS.md"
	@echo "make eval   score highlight mining on generated episodes with planted moments"

system:
	@bash scripts/install_system.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@# torch first, from the CPU wheel, so nothing later resolves a CUDA build.
	$(PIP) install -q $(if $(wildcard $(TORCH_WHEELS)/torch-*),--find-links $(TORCH_WHEELS)) $(TORCH_SPEC)
	$(PIP) install -q $(if $(wildcard $(TORCH_WHEELS)/torch-*),--find-links $(TORCH_WHEELS)) -e '.[openai,postgres,test,bench]'
	touch $(STAMP)

venv: $(STAMP)

setup: system venv

test: setup
	@# The layers contract in pyproject.toml: no layer imports one above it.
	$(VENV)/bin/lint-imports --no-cache
	@# A real Bluesky server (npm @atproto/dev-env) for the end-to-end publisher test; idempotent.
	@bash scripts/install_pds.sh
	@# A real two-speaker recording with true turns, from pyannote.audio's wheel (not installed).
	$(PY) scripts/fetch_real_speech.py eval-data/real
	$(PY) -m pytest $(PYTEST_ARGS)

demo-run: setup
	$(CASTMILL) init
	$(CASTMILL) client import config/clients/example.toml
	$(CASTMILL) process --client acme samples/sample_episode.mp3
	@# A watched feed on 127.0.0.1 publishes the second sample; one poll picks it up and processes it.
	$(PY) scripts/demo_feeds.py --client acme
	$(CASTMILL) episodes list --client acme
	$(CASTMILL) highlights $$($(CASTMILL) episodes list --client acme --json | $(PY) -c \
		'import json,sys; print(next(e["id"] for e in json.load(sys.stdin) if e["title"] == "Castmill Sample Episode"))')
	@# The six-minute sample's chapters and show notes (its drafts include them, a newsletter and a blog post).
	$(CASTMILL) chapters $$($(CASTMILL) episodes list --client acme --json | $(PY) -c \
		'import json,sys; print(next(e["id"] for e in json.load(sys.stdin) if e["title"].endswith("Three Topics")))')
	$(CASTMILL) notes $$($(CASTMILL) episodes list --client acme --json | $(PY) -c \
		'import json,sys; print(next(e["id"] for e in json.load(sys.stdin) if e["title"].endswith("Three Topics")))')
	$(CASTMILL) drafts list --client acme
	@# Approve the samples' drafts (VA, then client), publish one per platform now (one scheduler pass):
	@# to the outbox ($$CASTMILL_HOME/outbox/acme/), the newsletter to a local SMTP sink
	@# ($$CASTMILL_HOME/mail-sink/); then fill the client's posting slots with the rest.
	$(PY) scripts/demo_publish.py --client acme
	$(CASTMILL) schedule auto --client acme
	$(CASTMILL) calendar list --client acme
	@# Mark one published demo post evergreen and recycle it into the first free slot after those: where the repost goes.
	$(PY) scripts/demo_evergreen.py --client acme
	@# Best time to post: DEMO engagement history where a platform has too few posts, the slot proposals,
	@# and this week's HTML report with the heatmaps in $$CASTMILL_HOME/reports/.
	$(PY) scripts/demo_best_time.py --client acme
	@# A draft left waiting past its deadline: the client's reminder (with a fresh review link) lands in the mail sink.
	$(PY) scripts/demo_notices.py --client acme
	@# Sign-in details for the dashboard (fresh random passwords on every run).
	$(PY) scripts/demo_users.py --client acme --base-url http://$(DASHBOARD_ADDRESS):$(DASHBOARD_PORT)

dashboard: setup
	$(CASTMILL) dashboard --port $(DASHBOARD_PORT) --address $(DASHBOARD_ADDRESS)

demo: demo-run dashboard

bench: setup
	$(PY) scripts/fetch_real_speech.py eval-data/real
	$(PY) benchmarks/run.py

# Builds eval-data/ (espeak-ng; English, and Indonesian and code-switched in eval-data/multilingual/),
# transcribes it once (cached), prints recall@5/@10, boundary error, WER per language and the clean-cut
# shares; exits 1 when recall@5 < 90 % on the English set or any cut is unclean or in speech.
eval: setup
	$(PY) benchmarks/eval_highlights.py

sample: setup
	$(PY) scripts/make_sample.py --out-dir samples

clean:
	rm -rf $(VENV) .pytest_cache bench-data eval-data
