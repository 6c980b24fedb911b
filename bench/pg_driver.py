"""Which PostgreSQL driver cooperates with eventlet? Runs N green threads that each wait
on the server (`SELECT pg_sleep`) and then N that run a short query, under a monkey-patched
process as the services run, for pg8000, psycopg2 and psycopg2 with psycogreen. A blocking
driver serialises the green threads: its wall time is N times one query.

    .venv/bin/python bench/pg_driver.py [--threads 20] [--sleep 0.05]
"""
import warnings

warnings.filterwarnings("ignore")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import time  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

URL = "postgres@127.0.0.1:5432/postgres"


def measure(url, threads, sleep, queries=200):
    engine = create_engine(url, pool_size=threads, max_overflow=0)
    with engine.connect() as c:  # warm up one connection
        c.execute(text("select 1"))

    def wait_on_server(_):
        with engine.connect() as c:
            c.execute(text(f"select pg_sleep({sleep})"))

    def short_queries(_):
        with engine.connect() as c:
            for _ in range(queries // threads):
                c.execute(text("select count(*) from pg_class")).scalar()

    pool = eventlet.GreenPool(threads)
    list(pool.imap(wait_on_server, range(threads)))  # opens every pooled connection
    t0 = time.perf_counter()
    list(pool.imap(wait_on_server, range(threads)))
    waited = time.perf_counter() - t0
    t0 = time.perf_counter()
    list(pool.imap(short_queries, range(threads)))
    short = time.perf_counter() - t0
    engine.dispose()
    return waited, short


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--sleep", type=float, default=0.05)
    args = parser.parse_args()
    print(f"{args.threads} green threads; each waits {args.sleep * 1000:.0f} ms on the server "
          f"(ideal wall time {args.sleep * 1000:.0f} ms, fully blocking "
          f"{args.sleep * args.threads * 1000:.0f} ms); then 200 short queries")
    print(f"{'pg8000':<22} wait {measure('postgresql+pg8000://' + URL, args.threads, args.sleep)[0] * 1000:7.1f} ms")
    import psycogreen.eventlet
    import psycopg2.extensions
    psycopg2.extensions.set_wait_callback(None)  # undo eventlet's own patch: plain libpq waits
    waited, short = measure("postgresql+psycopg2://" + URL, args.threads, args.sleep)
    print(f"{'psycopg2 (blocking)':<22} wait {waited * 1000:7.1f} ms")
    psycogreen.eventlet.patch_psycopg()
    w2, s2 = measure("postgresql+psycopg2://" + URL, args.threads, args.sleep)
    print(f"{'psycopg2 + psycogreen':<22} wait {w2 * 1000:7.1f} ms")
    # short queries, all drivers (psycogreen is now active for psycopg2)
    for name, url in (("pg8000", "postgresql+pg8000://" + URL),
                      ("psycopg2 + psycogreen", "postgresql+psycopg2://" + URL)):
        _, short = measure(url, args.threads, args.sleep)
        print(f"{name:<22} 200 short queries {short * 1000:7.1f} ms ({200 / short:.0f}/s)")


if __name__ == "__main__":
    main()
