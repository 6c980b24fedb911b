"""The whole system, started the way `make run` starts it, driven over HTTP."""
import pytest

from tests.support.system import STAFF_PASSWORD, launch_system


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    with launch_system(tmp_path_factory.mktemp("procura-var")) as running:
        yield running


@pytest.fixture(scope="session")
def staff(system):
    return system.session("e2e.staff", STAFF_PASSWORD)
