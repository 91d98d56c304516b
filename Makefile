# circuitq: `make demo` runs the whole fleet on simulated hardware; `make test` runs the tests.
# (Both are thin wrappers over scripts/demo.sh and scripts/test.sh, which need no make.)
.PHONY: setup demo test test-compose check-wheels bench docs clean simulate-docs

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# The same end-to-end fleet tests against `docker compose up` (needs a Docker engine).
# The shipped docker-compose.yml, Dockerfile and broker config under a real container engine
# (Podman, docker-compose 1.29), the bare-metal installer under systemd, and the wheel check
# for arm64/armv7. Needs root; CI runs it (.ci/run). See tests/docker/engine.py.
test-compose:
	bash scripts/test-compose.sh

# Every Python dependency of the image and the wheel it gets on arm64 and armv7.
check-wheels: setup
	.venv/bin/python -m scripts.check_wheels

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
