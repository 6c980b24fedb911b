"""What a service process loads (`procura serve X` imports services.cli, then the service):
heavy libraries only where they are used, since each costs every process its resident
memory (bench/memory.py). numpy only in catalog (its search columns); psycopg2 only once a
PostgreSQL engine is made; nameko.web and werkzeug only in the gateway, which serves HTTP;
no dnspython (eventlet's green resolver) anywhere."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WATCHED = ("numpy", "psycopg2", "werkzeug", "dns")

PROBE = """
import json, sys
import services.cli
from services.common.runner import service_class
service_class({service!r})
print(json.dumps(sorted(m for m in {watched!r} if m in sys.modules)))
"""


@pytest.mark.parametrize("service, allowed", [("gateway", {"werkzeug"}), ("orders", set())])
def test_a_service_loads_only_the_heavy_libraries_it_uses(service, allowed):
    result = subprocess.run([sys.executable, "-c", PROBE.format(service=service,
                                                                watched=WATCHED)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert loaded - allowed == set()
