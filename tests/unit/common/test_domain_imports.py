"""The business rules import no framework: every service's domain (and what it imports:
models, schemas, common's errors, money, clock, outbox, caller context) loads in a process
where nameko, kombu and eventlet cannot be imported."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FRAMEWORKS = ("nameko", "kombu", "eventlet", "amqp", "greenlet", "psycogreen")


def domain_modules():
    services = ROOT / "services"
    paths = sorted(services.glob("*/domain.py")) + sorted(services.glob("*/domain/*.py"))
    paths += [services / "approvals" / "rules.py"]
    names = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in paths]
    return [name.removesuffix(".__init__") for name in names]


PROBE = """
import importlib, importlib.abc, sys
BLOCKED = {blocked!r}

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is a framework; the domain must not import it")
        return None

sys.meta_path.insert(0, Refuse())
failed = []
for module in {modules!r}:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        failed.append(f"{{module}}: {{exc}}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_domain_module_imports_without_nameko_kombu_or_eventlet():
    modules = domain_modules()
    assert "services.catalog.domain" in modules or any(
        m.startswith("services.catalog.domain.") for m in modules)
    probe = PROBE.format(blocked=FRAMEWORKS, modules=modules)
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
