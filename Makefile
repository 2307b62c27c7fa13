# SONIC developer targets. `make demo` and `make test` work on a fresh machine: both run `setup`.
VENV_PY := .venv/bin/python
STAMP := .venv/.sonic-setup-stamp

.PHONY: setup demo demo-learn test test-browser lint format bench clean

setup: $(STAMP)

$(STAMP): uv.lock pyproject.toml $(wildcard packages/*/pyproject.toml) scripts/setup.sh
	bash scripts/setup.sh
	@touch $(STAMP)

demo: setup
	$(VENV_PY) examples/demo.py

# The CPU variant of the single-GPU recipe (issue 16): train `small` for minutes, eval g1 + smpl, curves.png.
demo-learn: setup
	$(VENV_PY) examples/demo_learn.py

test: setup
	$(VENV_PY) -m pytest -q

# The live viewer in a real headless Chromium (Debian's `chromium`; Playwright from the browser group).
test-browser: setup
	bash scripts/setup.sh --group browser
	SONIC_BROWSER_TESTS=1 $(VENV_PY) -m pytest -q tests/env/test_viewer_browser.py

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/basedpyright

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# The benchmarks that run on this machine's CPU; the GPU ones (train_throughput, train_scaling and the
# device_*.sh / recipe_sweep.sh sessions) have their calls in benchmarks/README.md.
CPU_BENCHMARKS := convert motion_lib onnx_latency env_step env_ops learn_ops

bench: setup
	@set -e; for b in $(CPU_BENCHMARKS); do echo "== benchmarks/$$b.py"; $(VENV_PY) benchmarks/$$b.py; done

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache
