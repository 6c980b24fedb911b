"""`procura`: the operator's command line.

serve SERVICE         run one service (what make run and every container do)
check-broker          exit with advice when RabbitMQ is not reachable
migrate [--local-development]  upgrade every service's database, declare broker queues
                      (make run marks identity's new database as a local development one)
declare-queues        declare every consumer queue, retry and dead-letter queue
create-staff USERNAME create a reseller staff account (password on standard input)
seed-demo [--i-know]  load the demo company, users, contract and catalog (once), only
                      into databases `make run` created unless --i-know
rotate-signing-key [--file PATH]  add a key to identity's signing key ring
import-products FILE  load a large CSV or CIF 3.0 catalog directly (staff operation)
reindex-search        rebuild catalog's search word lists now (PostgreSQL; the catalog
                      service does it by itself after changes)
dead-letters list|replay [EVENT_ID]
broker-users [--local]  make each service's RabbitMQ user and permissions (management API);
                      prints `export <SERVICE>_AMQP_URI=...` lines (make run evals them)
broker-definitions [--env-file .env] [--output FILE]  RabbitMQ definitions: users, password
                      hashes, permissions, topology (docker-compose, Kubernetes)
compose-env [--force] a docker-compose `.env` with random secrets, and its definitions file
k8s-secrets [--force] deploy/k8s/secrets.env (the Secret's keys) and passwords.env, at random
reporting rebuild     rebuild reporting's read model from the events it logged
reporting run-schedules [--at TIME]  send the scheduled reports due at TIME (default now)
subscriptions renew [--today DATE]   warn about and renew the subscriptions due on DATE
                      (default today); the orders service does it by itself every hour
mail-sink             the local SMTP sink writing .eml files under var/mail/
mail-links ADDRESS    the links in the newest email to ADDRESS (local mail sink)
makemigrations SERVICE MESSAGE   (developers) autogenerate an Alembic revision
"""
import os
import warnings

# Host names resolve through the C library, as libpq's always do: eventlet's green resolver
# would load dnspython (about 7 MB in every process) for lookups made only on connecting.
# EVENTLET_NO_GREENDNS=no in the environment brings it back.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")
import eventlet  # noqa: E402

# psycopg2 is made green where a PostgreSQL engine is made (engines.make_postgres_green):
# a process on SQLite never loads it
eventlet.monkey_patch(psycopg=False)  # before anything opens a socket

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)


def _declare_all():
    from services.common.config import SERVICES
    from services.common.broker import declare_topology
    from services.common.runner import all_service_classes
    return declare_topology(all_service_classes(SERVICES))


def check_broker():
    """Stop at once, with a way out, when RabbitMQ is not reachable."""
    from kombu import Connection

    from services.common.config import amqp_uri
    try:
        with Connection(amqp_uri(), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        sys.exit(f"RabbitMQ is not reachable at {amqp_uri()} ({exc}).\n"
                 "Start one with `docker compose up -d rabbitmq`, or your distribution's "
                 "`rabbitmq-server -detached`, or set AMQP_URI.")


def import_products(path):
    """A large catalog straight into catalog's database, streamed in batches."""
    from services.catalog.domain import products
    from services.catalog.models import Base
    from services.common.context import CallerContext
    from services.common.engines import open_session
    with open_session("catalog", Base) as session, open(path, encoding="utf-8-sig") as source:
        report = products.import_products(session, CallerContext.system(), source=source,
                                          commit_every=50000)
        session.commit()
    print(json.dumps({k: report[k] for k in ("imported", "updated")} |
                     {"rejected": report["rejected_count"]}))
    for item in report["rejected"][:20]:
        print(f"  line {item['line']}: {item['reason']}")
    reindex_search()


def reindex_search():
    """Rebuild PostgreSQL's search word lists (and vacuum after a large change)."""
    from services.catalog.indexer import rebuild
    from services.common.config import database_url
    from services.common.engines import make_engine
    engine = make_engine(database_url("catalog"))
    try:
        if engine.dialect.name != "postgresql":
            return
        report = rebuild(engine)
        print("search word lists: " + (json.dumps(report) if report else "another process is building them"))
    finally:
        engine.dispose()


def reporting(action, at=None):
    """Reporting's maintenance: rebuild the read model, or send the schedules due at a time
    of the operator's choosing (a late run after an outage, or a test's clock)."""
    from services.common.clock import utcnow
    from services.common.engines import open_session
    from services.reporting.domain import facts, schedules
    from services.reporting.models import Base
    with open_session("reporting", Base) as session:
        if action == "rebuild":
            replayed = facts.rebuild(session)
            session.commit()
            print(f"reporting read model rebuilt from {replayed} events")
        else:
            moment = facts.parse_time(at) if at else utcnow()
            sent = schedules.run_due(session, moment)
            session.commit()
            print(f"scheduled reports sent: {len(sent)}")


def subscriptions_renew(today=None):
    """Run subscription renewals for a day of the operator's choosing (a late run after an
    outage, or a test's clock); needs identity and catalog running."""
    from datetime import date

    from services.common.config import database_url
    from services.common.engines import make_engine, session_factory
    from services.common.standalone import StandaloneRpc
    from services.orders import renewals
    from services.orders.models import Base
    day = date.fromisoformat(today) if today else None
    engine = make_engine(database_url("orders"))
    try:
        with StandaloneRpc("orders") as rpc:  # the orders service's own work
            done = renewals.run(session_factory(engine, Base), rpc,
                                day or date.today())
    finally:
        engine.dispose()
    print(f"subscriptions: {done['renewed']} renewed, {done['cancelled']} cancelled, "
          f"{done['warned']} owners warned")


def broker_access(args):
    """Each service's RabbitMQ user: made now (make run), or written as definitions."""
    from services.common import broker_access as access
    from services.common.config import SERVICES, amqp_uri, env
    if args.command == "broker-users":
        passwords = access.local_passwords() if args.local else \
            {s: env(f"{s.upper()}_AMQP_PASSWORD") for s in SERVICES}
        missing = [s for s, password in passwords.items() if not password]
        if missing:
            sys.exit("no password for " + ", ".join(missing) + " (set <SERVICE>_AMQP_PASSWORD)")
        print(access.export_lines(access.create_service_users(amqp_uri(), passwords)), end="")
    elif args.command == "broker-definitions":
        from services.deploy_env import write_definitions
        write_definitions(args.env_file, args.output)
    elif args.command == "k8s-secrets":
        from services.deploy_env import k8s_secrets
        print(k8s_secrets(force=args.force))
    else:
        from services.deploy_env import compose_env
        print(compose_env(force=args.force))


def mail_links(address):
    """The links of the newest email the local mail sink received for an address (the
    set-password link of a new user, for example)."""
    import email
    import re
    from email import policy

    from services.common.config import var_dir
    for path in sorted((var_dir() / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime,
                       reverse=True):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address.lower() in str(msg["To"]).lower():
            text = msg.get_body(preferencelist=("plain",)).get_content()
            for link in dict.fromkeys(re.findall(r"https?://\S+", text)):
                print(link.rstrip(".,;)>"))
            return
    sys.exit(f"no email for {address} under {var_dir() / 'mail'}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="procura", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve")
    p.add_argument("service")
    p = sub.add_parser("migrate")
    p.add_argument("--no-queues", action="store_true", help="skip declaring broker queues")
    p.add_argument("--local-development", action="store_true",
                   help="(make run) mark identity's new database as a local development one")
    sub.add_parser("declare-queues")
    sub.add_parser("check-broker")
    p = sub.add_parser("create-staff")
    p.add_argument("username")
    p.add_argument("--email", default=None)
    p = sub.add_parser("seed-demo")
    p.add_argument("--products", type=int, default=3000)
    p.add_argument("--i-know", action="store_true",
                   help="load the demo logins into a database `make run` did not create")
    p = sub.add_parser("rotate-signing-key")
    p.add_argument("--file", default=None,
                   help="the key ring file (default: $IDENTITY_SIGNING_KEYS_FILE)")
    p = sub.add_parser("import-products")
    p.add_argument("file", help="a CSV or CIF 3.0 catalog file")
    sub.add_parser("reindex-search")
    p = sub.add_parser("dead-letters")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("event_id", nargs="?")
    p = sub.add_parser("broker-users")
    p.add_argument("--local", action="store_true",
                   help="passwords made on first use and kept under var/ (make run); else "
                        "from $<SERVICE>_AMQP_PASSWORD")
    p = sub.add_parser("broker-definitions")
    p.add_argument("--env-file", default=".env")
    p.add_argument("--output", default="-")
    p = sub.add_parser("compose-env")
    p.add_argument("--force", action="store_true", help="replace an existing .env")
    p = sub.add_parser("k8s-secrets")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p = sub.add_parser("reporting")
    p.add_argument("action", choices=["rebuild", "run-schedules"])
    p.add_argument("--at", default=None, help="run-schedules: an ISO 8601 UTC time")
    p = sub.add_parser("subscriptions")
    p.add_argument("action", choices=["renew"])
    p.add_argument("--today", default=None, help="an ISO date (YYYY-MM-DD)")
    p = sub.add_parser("mail-links")
    p.add_argument("address", help="the recipient's email address")
    p = sub.add_parser("mail-sink")
    p.add_argument("--port", type=int, default=None, help="default: $SMTP_PORT or 1025")
    p = sub.add_parser("makemigrations")
    p.add_argument("service")
    p.add_argument("message")
    args = parser.parse_args(argv)

    if args.command == "serve":
        from services.common.runner import serve
        serve(args.service)
    elif args.command == "migrate":
        from services.common.migrations import upgrade_all
        upgrade_all()
        if args.local_development:
            from services.identity.admin import mark_local_development
            mark_local_development()
        if not args.no_queues:
            _declare_all()
        print("databases migrated" + ("" if args.no_queues else ", queues declared"))
    elif args.command == "check-broker":
        check_broker()
    elif args.command == "declare-queues":
        for name in _declare_all():
            print(name)
    elif args.command == "create-staff":
        from services.identity.admin import create_staff
        password = sys.stdin.readline().rstrip("\n")
        user_id = create_staff(args.username, password, email=args.email)
        print(f"staff user {args.username} created (id {user_id})")
    elif args.command == "seed-demo":
        from services.demo import seed
        seed(products=args.products, i_know=args.i_know)
    elif args.command == "rotate-signing-key":
        from services.identity.admin import rotate_signing_key
        print(rotate_signing_key(args.file))
    elif args.command == "import-products":
        import_products(args.file)
    elif args.command == "reindex-search":
        reindex_search()
    elif args.command == "dead-letters":
        from services.common.broker import dead_letters, replay_dead_letters
        if args.action == "list":
            for item in dead_letters():
                print(json.dumps(item))
        else:
            print(f"replayed {replay_dead_letters(event_id=args.event_id)}")
    elif args.command in ("broker-users", "broker-definitions", "compose-env", "k8s-secrets"):
        broker_access(args)
    elif args.command == "reporting":
        reporting(args.action, args.at)
    elif args.command == "subscriptions":
        subscriptions_renew(args.today)
    elif args.command == "mail-links":
        mail_links(args.address)
    elif args.command == "mail-sink":
        from services.notifications.sink import run_sink
        from services.common.config import env
        run_sink(port=args.port or int(env("SMTP_PORT", "1025")))
    elif args.command == "makemigrations":
        from services.common.migrations import make_revision
        make_revision(args.service, args.message)


if __name__ == "__main__":
    main()
