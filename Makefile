# The README's commands: `make demo` and `make test` do all set-up first (`make install`).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sccosf-installed
# torch 2.14.1 + torchvision 0.29.1 install from local disk on this project's machines.
TORCH ?= torch==2.14.1 torchvision==0.29.1
PYTEST_ARGS ?=

.PHONY: install test lint demo bench gpu-check clean

install: $(STAMP)

$(STAMP): setup.py setup.cfg package.xml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[ros,dev,onnx,openvino]'
	@touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

test: install lint
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/sccosf demo

bench: install
	$(VENV)/bin/sccosf bench model
	$(VENV)/bin/sccosf bench scan
	$(VENV)/bin/sccosf bench train
	$(VENV)/bin/sccosf bench node
	$(VENV)/bin/sccosf bench web
	$(VENV)/bin/sccosf bench runtime

# The GPU check (README "GPU check"): on a CUDA machine under 10 minutes; without one it runs
# the CPU-safe parts and lists the rest as skipped. Prebuilt wheels in .whl/ install first.
GPU_CHECK_ARGS ?=
gpu-check: install
	$(VENV)/bin/sccosf bench gpu $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) build install log outputs *.egg-info
