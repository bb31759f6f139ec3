# The two commands the README gives. Both install what they need first.
.PHONY: lab test bench doctor

lab:
	@scripts/bootstrap.sh
	@.venv/bin/labkit lab

test:
	@scripts/bootstrap.sh --test
	@.venv/bin/labkit test

bench:
	@scripts/bootstrap.sh
	@.venv/bin/python bench/bench_server.py

doctor:
	@scripts/bootstrap.sh
	@.venv/bin/labkit doctor
