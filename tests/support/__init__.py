"""Test support shared by every test folder and by the benchmarks under bench/: databases
(`databases`), waiting for a fact (`waiting`), the broker's vhosts and queues (`broker`),
the whole system started as `make run` starts it (`system`) and the pytest fixtures (`plugin`,
loaded by the root conftest). Nothing here mocks a service."""
