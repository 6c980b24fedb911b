# Procura: `make run` starts everything with demo data; `make test` runs every test.
.PHONY: run test test-fast install migrate clean bench

run:
	scripts/run.sh

install:
	scripts/install.sh

migrate: install
	.venv/bin/procura migrate

# unit, integration and end-to-end tests, on SQLite and on PostgreSQL, on the real broker
test: install
	scripts/test.sh

# unit tests only, SQLite only
test-fast: install
	PROCURA_TEST_DB=sqlite .venv/bin/pytest tests/unit -q

bench: install
	.venv/bin/python bench/gateway_products.py

clean:
	rm -rf var
