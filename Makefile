# circuitq: `make demo` runs the whole fleet on simulated hardware; `make test` runs the tests.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-docker bench docs acl clean

$(PY): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	@touch $(PY)

setup: $(PY)

demo: $(PY)
	$(PY) -m sim.demo

test: $(PY)
	$(PY) -m pytest -q

# The same end-to-end tests against `docker compose up` (needs a Docker engine).
test-docker: $(PY)
	CIRCUITQ_DOCKER=1 $(PY) -m pytest -q -m docker

bench: $(PY)
	$(PY) -m bench

docs: $(PY)
	$(PY) -m scripts.gen_docs
	$(PY) -m mosquitto.gen_acl --out mosquitto/acl

clean:
	rm -rf run state .pytest_cache
