"""The whole system started as `make run` starts it (migrate, seed-demo, create-staff, the
Procfile through honcho) on a private vhost, private databases and free ports: for the e2e
tests and the benchmarks."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from services.common.config import DATA_SERVICES
from tests.support.broker import new_vhost
from tests.support.databases import create_database

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
STAFF_PASSWORD = "Staff-password-2026"
DEMO_PASSWORD = "Procura-demo-2026"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    """A running Procura: its base URL, environment, mail folder and helpers."""

    def __init__(self, env, var):
        self.env = env
        self.var = var
        self.url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        self.api = self.url + "/api/v1"
        self.proc = None
        self.log = open(var / "system.log", "ab")

    def start(self):
        self.proc = subprocess.Popen(
            [str(BIN / "honcho"), "start", "-f", str(ROOT / "Procfile")], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout=60):
        import requests
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError("Procura did not become ready:\n" + self.tail())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def tail(self, n=80):
        self.log.flush()
        lines = (self.var / "system.log").read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def cli(self, *args, input=None):
        return subprocess.run([str(BIN / "procura"), *args], cwd=ROOT, env=self.env, input=input,
                              capture_output=True, text=True, check=True).stdout

    # ---- HTTP helpers
    def login(self, username, password=DEMO_PASSWORD):
        import requests
        r = requests.post(self.api + "/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return r.json()

    def session(self, username, password=DEMO_PASSWORD):
        import requests
        token = self.login(username, password)["access_token"]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        return s

    def mails(self):
        folder = self.var / "mail"
        return sorted(folder.glob("*.eml")) if folder.exists() else []

    def set_password(self, address, username, password, timeout=20):
        """Use the set-password link emailed to a new user (API.md: the token is the link's
        `token` query parameter)."""
        import re

        import requests
        link = re.compile(r"/set-password\?token=([A-Za-z0-9_\-]+)")

        def token_in(msg):
            text = msg.get_body(preferencelist=("plain",)).get_content()
            match = link.search(text)
            return match and username in text and match.group(1)
        msg = self.wait_mail(lambda m: address in str(m["To"]) and token_in(m), timeout)
        r = requests.post(self.api + "/auth/reset-password",
                          json={"token": token_in(msg), "new_password": password})
        assert r.status_code == 204, r.text

    def new_company(self, staff, name, currency="CAD", password="Company-admin-2026!"):
        """A company created by staff, its administrator's password set from the email;
        returns (admin session, {company_id, username, email})."""
        tag = uuid.uuid4().hex[:8]
        username, address = f"admin.{tag}", f"admin.{tag}@{name.lower()}.test"
        r = staff.post(self.api + "/backoffice/companies", json={
            "name": f"{name} {tag}", "customer_number": f"C{tag}", "currency": currency,
            "admin": {"username": username, "email": address, "first_name": "Ada",
                      "last_name": name, "locale": "en"}})
        assert r.status_code == 201, r.text
        self.set_password(address, username, password)
        return self.session(username, password), {"company_id": r.json()["id"],
                                                  "username": username, "email": address}

    def wait_mail(self, predicate, timeout=20):
        import email
        from email import policy
        deadline = time.time() + timeout
        while time.time() < deadline:
            for path in self.mails():
                msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if predicate(msg):
                    return msg
            time.sleep(0.2)
        raise AssertionError("no such email arrived; have: " +
                             ", ".join(p.name for p in self.mails()))


@contextlib.contextmanager
def launch_system(var: Path, products=300, extra_env=None):
    """Start Procura as `make run` does (migrate, seed-demo, create-staff, the Procfile
    through honcho) on a private vhost, private databases and free ports."""
    vhost, drop_vhost = new_vhost()
    env = dict(os.environ)
    env.update({"PROCURA_VAR": str(var), "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                "GATEWAY_PORT": str(free_port()), "SMTP_PORT": str(free_port()),
                "SMTP_HOST": "", "PUBLIC_URL": "http://portal.test", "PYTHONUNBUFFERED": "1",
                "EVENT_RETRY_DELAYS": "0.5,1", "OUTBOX_RELAY_INTERVAL": "0.3",
                "LOG_LEVEL": "INFO"})
    env.update(extra_env or {})
    drops = []
    for service in DATA_SERVICES:
        url, drop = create_database(service, var)
        env[f"{service.upper()}_DATABASE_URL"] = url
        drops.append(drop)
    system = System(env, var)
    try:
        system.cli("migrate", "--local-development")
        system.cli("seed-demo", "--products", str(products))
        system.cli("create-staff", "e2e.staff", input=STAFF_PASSWORD + "\n")
        system.start()
        yield system
    finally:
        system.stop()
        drop_vhost()
        for drop in drops:
            try:
                drop()
            except Exception as exc:  # a database still in use must not hide the result
                print(f"could not drop a test database: {exc}", file=sys.stderr)
