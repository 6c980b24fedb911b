"""The whole system started as `make run` starts it (migrate, seed-demo, create-staff, the
Procfile through honcho) on a private vhost, private databases and free ports: for the e2e
tests and the benchmarks. Also the one way tests sign in (`login`, `sign_in`) and the one
way they make a company (`System.new_company`, a `Company`)."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from services.common.config import DATA_SERVICES
from tests.support.broker import new_vhost, service_users
from tests.support.databases import create_database
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
STAFF_PASSWORD = "Staff-password-2026"
DEMO_PASSWORD = "Procura-demo-2026"
COMPANY_PASSWORD = "Company-admin-2026!"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login(api, username, password):
    """POST /auth/login as `username`: the response (tests of refusals read its status)."""
    return requests.post(api + "/auth/login", json={"username": username, "password": password},
                         timeout=30)


def bearer(access_token) -> requests.Session:
    """A requests session that sends `access_token`."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access_token}"
    return session


def sign_in(api, username, password) -> requests.Session:
    """A session signed in as `username` (the login must succeed)."""
    r = login(api, username, password)
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


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
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("Procura stopped while starting:\n" + self.tail())
            try:
                return requests.get(self.url + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        try:
            wait_for(ready, timeout=timeout, interval=0.3, message="Procura to be ready")
        except AssertionError:
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
        """The token pair of a successful login."""
        r = login(self.api, username, password)
        assert r.status_code == 200, r.text
        return r.json()

    def session(self, username, password=DEMO_PASSWORD):
        return sign_in(self.api, username, password)

    def mails(self):
        folder = self.var / "mail"
        return sorted(folder.glob("*.eml")) if folder.exists() else []

    def set_password(self, address, username, password, timeout=20):
        """Use the set-password link emailed to a new user (API.md: the token is the link's
        `token` query parameter)."""
        import re
        link = re.compile(r"/set-password\?token=([A-Za-z0-9_\-]+)")

        def token_in(msg):
            text = msg.get_body(preferencelist=("plain",)).get_content()
            match = link.search(text)
            return match and username in text and match.group(1)
        msg = self.wait_mail(lambda m: address in str(m["To"]) and token_in(m), timeout)
        r = requests.post(self.api + "/auth/reset-password",
                          json={"token": token_in(msg), "new_password": password})
        assert r.status_code == 204, r.text

    def new_company(self, staff, name, currency="CAD", password=COMPANY_PASSWORD):
        """A company created by `staff` (a signed-in staff session), its administrator's
        password set from the email: a Company whose `admin` is signed in."""
        return Company(self, staff, name, currency, password)

    def wait_mail(self, predicate, timeout=20):
        """The first email the predicate accepts (an email.message.EmailMessage)."""
        import email
        from email import policy

        def found():
            for path in self.mails():
                msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if predicate(msg):
                    return msg
            return None
        return wait_for(found, timeout=timeout, interval=0.2, message="an email")

    def handled(self, source, by=None) -> bool:
        """Whether every event `source` has written so far has been handled by every
        handler of its type in the other services, or in service `by` (each records the
        events it processed): the fact to wait for before asserting that an event had no
        further effect. A handler that takes only some events of its type (`when=`) records
        only those: name the service whose handlers take them all."""
        from sqlalchemy import select

        from services.common.broker import consumer_queues
        from services.common.engines import open_session
        from services.common.runner import service_class

        def rows(service, query):
            module = __import__(f"services.{service}.models", fromlist=["Base"])
            session = open_session(service, module.Base,
                                   self.env[f"{service.upper()}_DATABASE_URL"])
            try:
                return session.execute(query(module.Base)).all()
            finally:
                session.close()
                session.get_bind().dispose()
        written = rows(source, lambda base: select(base.OutboxEvent.event_id,
                                                   base.OutboxEvent.type))
        for service in (by,) if by else DATA_SERVICES:
            for queue_source, event_type, queue in consumer_queues(service_class(service)):
                wanted = {e for e, t in written if t == event_type}
                if queue_source != source or not wanted:
                    continue
                handler = queue.split("--", 1)[1]
                done = {e for (e,) in rows(service, lambda base: select(
                    base.ProcessedEvent.event_id).where(base.ProcessedEvent.handler == handler))}
                if wanted - done:
                    return False
        return True


class Company:
    """A company made by staff through the API, with its administrator signed in (`admin`),
    and its users made the same way (`add_user`)."""

    def __init__(self, system, staff, name, currency="CAD", password=COMPANY_PASSWORD):
        self.system, self.password = system, password
        tag = uuid.uuid4().hex[:8]
        self.admin_username = f"admin.{tag}"
        self.admin_email = f"admin.{tag}@{name.lower()}.test"
        r = staff.post(system.api + "/backoffice/companies", json={
            "name": f"{name} {tag}", "customer_number": f"C{tag}", "currency": currency,
            "admin": {"username": self.admin_username, "email": self.admin_email,
                      "first_name": "Ada", "last_name": name, "locale": "en"}})
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.admin_id = r.json()["admin_user_id"]
        system.set_password(self.admin_email, self.admin_username, password)
        self.admin = system.session(self.admin_username, password)

    def add_users(self, *specs):
        """Users made by the administrator (each spec: groups, roles, features, ...), their
        passwords set from the set-password emails; their views, each with its `password`
        and a signed-in `session`."""
        created = []
        for spec in specs:
            tag = uuid.uuid4().hex[:8]
            body = {"username": f"user.{tag}", "email": f"user.{tag}@example.test",
                    "first_name": "Uma", "last_name": "User", "locale": "en", **spec}
            r = self.admin.post(self.system.api + "/company/users", json=body)
            assert r.status_code == 201, r.text
            created.append(r.json())
        for user in created:
            self.system.set_password(user["email"], user["username"], self.password)
            user["password"] = self.password
            user["session"] = self.system.session(user["username"], self.password)
        return created

    def add_user(self, **spec):
        return self.add_users(spec)[0]

    def patch_user(self, user_id, changes):
        return self.admin.patch(self.system.api + f"/company/users/{user_id}", json=changes)


@contextlib.contextmanager
def launch_system(var: Path, products=300, extra_env=None, quick_timers=True):
    """Start Procura as `make run` does (each service's RabbitMQ user, migrate, seed-demo,
    create-staff, the Procfile through honcho) on a private vhost, private databases and free
    ports. `quick_timers` (for tests) makes the outbox relay poll and failed events come back
    sooner than `make run`'s defaults; benchmarks keep the defaults (the relay's polling is
    part of what a process costs)."""
    vhost, drop_vhost = new_vhost()
    env = dict(os.environ)
    env.update({"PROCURA_VAR": str(var), "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                "GATEWAY_PORT": str(free_port()), "SMTP_PORT": str(free_port()),
                "SMTP_HOST": "", "PUBLIC_URL": "http://portal.test", "PYTHONUNBUFFERED": "1",
                "LOG_LEVEL": "INFO"})
    if quick_timers:
        env.update({"EVENT_RETRY_DELAYS": "0.5,1", "OUTBOX_RELAY_INTERVAL": "0.3"})
    # each service logs in as its own RabbitMQ user, as with make run
    users, drop_users = service_users(vhost)
    env.update(users)
    env.update(extra_env or {})
    drops = [drop_users]
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
