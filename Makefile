# Two commands do all set-up (see README): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the exact pin takes the local CPU wheel here; any other spec downloads a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m silverprint.samples samples
	$(VENV)/bin/silverprint render samples --out-dir out
	@echo "Black-and-white versions of the sample photos are in $(CURDIR)/out/"
	@# warns (never fails) when the companion's window lacks system libraries, naming the packages
	-@$(PY) -m silverprint.desktop_check

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf samples out build dist *.egg-info
