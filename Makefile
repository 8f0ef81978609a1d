# The two quick-start commands (README) and what they build on.
PYTHON ?= python3
GRADE = $(PYTHON) -m graders.cli

.PHONY: install example sandbox check test validate validate-q9 validate-full speed check-html

install:  ## the harness and its pinned dependencies (torch: the CPU build)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[dev]'

example: install  ## grade the bundled reference solution of q3_decorator
	$(GRADE) challenges/q3_decorator reference/q3_decorator.py

sandbox: install  ## the host packages, a Docker engine that answers, and the sandbox image
	bash .ci/docker-engine.sh
	$(GRADE) sandbox build

check: install  ## lint and type check
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

# Two pytest-xdist workers, a module with costly module-scoped fixtures on one worker
# (`xdist_group`); a performance phase is never timed alongside another test's grading
# (graders/timing_lock.py). `-rs`: the log names each skipped test and why.
test: sandbox check  ## every test, the Docker sandbox ones required (never skipped)
	GRADERS_REQUIRE_DOCKER=1 $(PYTHON) -m pytest -n 2 --dist loadgroup -rs

# q9_cpu_inference is proved by hand (`make validate-q9`): its quick proof takes 6-7 min
# and its margin check (the reference's p95 within 8 ms) rides this host's speed drift.
QUICK_PROVED = q3_decorator q3_rate_limiter q6_bidirectional_bfs q7_grad_accumulation

validate: sandbox  ## the quick proof of the challenges CI proves, on docker (CI runs it after the tests)
	for id in $(QUICK_PROVED); do $(GRADE) validate $$id --sandbox docker --quick --jobs 2 || exit 1; done

validate-q9: sandbox  ## the full proof of q9_cpu_inference on both backends (~15 min)
	$(GRADE) validate q9_cpu_inference --sandbox docker
	$(GRADE) validate q9_cpu_inference --sandbox process

validate-full: sandbox  ## the full proof: three reference runs on both backends, and the mutants
	$(GRADE) validate --all --sandbox docker --mutants
	$(GRADE) validate --all --sandbox process

speed: sandbox  ## how long one grading takes, phase by phase (q3: reference and a one-test failure, both backends)
	$(PYTHON) -m benchmarks.grade_speed --runs 5

HTML_CHECK = build/html-check
check-html: install  ## a real batch report, checked in headless Chromium (apt-get install -y chromium)
	rm -rf $(HTML_CHECK) && mkdir -p $(HTML_CHECK)/submissions
	cp reference/q3_decorator.py $(HTML_CHECK)/submissions/reference.py
	cp challenges/q3_decorator/stub.py challenges/q3_decorator/known_bad/guide_q3.py \
	   challenges/q3_decorator/known_bad/thread_unsafe.py $(HTML_CHECK)/submissions/
	$(GRADE) batch q3_decorator $(HTML_CHECK)/submissions --out $(HTML_CHECK)/batch --sandbox process
	$(PYTHON) tools/chromium_check.py $(HTML_CHECK)/batch/report.html \
	    --screenshot $(HTML_CHECK)/report.png --click '#submissions th.num'
	$(PYTHON) tools/chromium_check.py $(HTML_CHECK)/batch/reports/reference.html \
	    --screenshot $(HTML_CHECK)/reference.png
	GRADERS_REQUIRE_CHROMIUM=1 $(PYTHON) -m pytest tests/test_html.py
