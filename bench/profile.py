"""Profile every Procura process while a benchmark drives the system.

Runs the benchmark given after `--` (e.g. bench/checkout.py), waits until the system it starts
is serving, records each `procura serve <service>` process with py-spy for a while (speedscope
files, one per service) and prints, per service, the CPU seconds sampled and the frames where
that time is spent (self time, and inclusive time of Procura's own functions).

    .venv/bin/python bench/profile.py --seconds 15 --out var/profiles -- bench/checkout.py --seconds 30

Open the .json files at https://www.speedscope.app or with `speedscope` for the flame graphs.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY_SPY = Path(sys.executable).with_name("py-spy")


def descendants(root_pid):
    """{pid: cmdline} of every process under root_pid."""
    children = collections.defaultdict(list)
    cmdlines = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
        cmdlines[int(entry.name)] = cmd
    found, todo = {}, [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = cmdlines.get(child, "")
            todo.append(child)
    return found


def services_under(root_pid):
    procs = {}
    for pid, cmd in descendants(root_pid).items():
        words = cmd.split()
        if "serve" in words and words.index("serve") + 1 < len(words):
            procs[words[words.index("serve") + 1]] = pid
    return procs


# where a sample's innermost frame is, by the library that holds it
LIBRARIES = (("sqlalchemy", "SQLAlchemy"), ("sqlite3", "SQLite"), ("psycopg2", "psycopg2"),
             ("/amqp/", "amqp+kombu"), ("/kombu/", "amqp+kombu"), ("/nameko/", "nameko"),
             ("/eventlet/", "eventlet"), ("greenlet", "eventlet"), ("marshmallow", "marshmallow"),
             ("/jwt/", "PyJWT"), ("cryptography", "PyJWT"), ("/jinja2/", "Jinja2"),
             ("/email/", "email"), ("smtplib", "email"), ("/werkzeug/", "werkzeug"),
             ("prometheus", "prometheus"), ("/services/", "Procura"), ("/json/", "json"),
             ("/logging/", "logging"))


def library_of(file):
    return next((name for part, name in LIBRARIES if part in file), "other")


def summarise(path, top):
    # py-spy writes weights in seconds, one profile per thread, stacks root first
    data = json.loads(Path(path).read_text())
    frames = data["shared"]["frames"]
    self_time, inclusive, total = collections.Counter(), collections.Counter(), 0.0
    libraries = collections.Counter()
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"]):
            if not stack:  # a thread py-spy saw with no Python frame: not our CPU
                continue
            total += weight
            if stack:
                f = frames[stack[-1]]
                self_time[f"{f['name']} ({Path(f.get('file') or '?').name})"] += weight
                libraries[library_of(f.get("file") or "")] += weight
            seen = set()
            for idx in stack:
                f = frames[idx]
                if "/services/" in (f.get("file") or "") and idx not in seen:
                    seen.add(idx)
                    inclusive[f"{f['name']} ({f['file'].split('/services/')[1]})"] += weight
    return total, self_time.most_common(top), inclusive.most_common(top), libraries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15, help="how long to record each process")
    parser.add_argument("--warmup", type=float, default=6, help="seconds after the system is up")
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--out", default="var/profiles")
    parser.add_argument("bench", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    bench = [a for a in args.bench if a != "--"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, *bench], cwd=ROOT)
    try:
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            procs = services_under(proc.pid)
            if "gateway" in procs and len(procs) >= 6:
                break
            time.sleep(0.5)
        else:
            sys.exit("the benchmark did not start the system")
        time.sleep(args.warmup)
        procs = services_under(proc.pid)
        recorders = {
            name: subprocess.Popen([str(PY_SPY), "record", "--nonblocking", "-r", str(args.rate),
                                    "-d", str(args.seconds), "-f", "speedscope",
                                    "-o", str(out / f"{name}.json"), "-p", str(pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in sorted(procs.items())}
        for r in recorders.values():
            r.wait()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
    print(f"\n== profiles ({args.seconds} s at {args.rate} Hz, speedscope files in {out}) ==")
    everything = collections.Counter()
    for name in sorted(recorders):
        path = out / f"{name}.json"
        if not path.exists():
            print(f"\n{name}: no profile")
            continue
        total, selfs, incl, libraries = summarise(path, args.top)
        everything.update(libraries)
        print(f"\n{name}: {total:.1f} s on CPU over {args.seconds} s")
        print("  by library: " + ", ".join(f"{lib} {w / total:.0%}"
                                           for lib, w in libraries.most_common(6)))
        print("  self:")
        for frame, w in selfs:
            print(f"    {w / total:6.1%}  {frame}")
        print("  inclusive (Procura's code):")
        for frame, w in incl:
            print(f"    {w / total:6.1%}  {frame}")
    whole = sum(everything.values()) or 1
    print("\nall processes, by library: " + ", ".join(
        f"{lib} {w / whole:.0%}" for lib, w in everything.most_common(10)))


if __name__ == "__main__":
    main()
