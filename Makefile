# circuitq: `make demo` runs the whole fleet on simulated hardware; `make test` runs the tests.
# (Both are thin wrappers over scripts/demo.sh and scripts/test.sh, which need no make.)
.PHONY: setup demo test test-docker bench docs clean simulate-docs

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# The same end-to-end fleet tests against `docker compose up` (needs a Docker engine).
test-docker: setup
	CIRCUITQ_DOCKER=1 .venv/bin/python -m pytest -q tests/test_fleet_e2e.py

# The simulator's results tables in docs/simulate.md (both sites, January and July, all policies).
simulate-docs: setup
	.venv/bin/python -m sim.simulate.docs_table

bench: setup
	.venv/bin/python -m bench

# Regenerate what is derived from the topic catalogue.
docs: setup
	.venv/bin/python -m scripts.gen_docs
	.venv/bin/python -m mosquitto.gen_acl --out mosquitto/acl

clean:
	rm -rf run state .pytest_cache
