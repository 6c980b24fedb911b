"""A small closed-loop HTTP load generator: N keep-alive connections, each sending the next
request when the previous reply arrives, for a fixed time. Prints requests/s and latency
percentiles. Runs in its own process (no eventlet), so it measures the server, not itself."""
import http.client
import statistics
import threading
import time
from urllib.parse import urlsplit


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def run(url, headers=None, seconds=10.0, connections=8, warmup=1.0, method="GET", body=None,
        ok_status=200):
    """`url` is one URL, or a list of URLs on one host that each connection requests in
    turn; `body` (bytes or str) is sent with every request; a reply counts as ok when its
    status is `ok_status`."""
    urls = [url] if isinstance(url, str) else list(url)
    parts = urlsplit(urls[0])
    if isinstance(body, str):
        body = body.encode()
    paths = [p.path + ("?" + p.query if p.query else "") for p in map(urlsplit, urls)]
    latencies, errors, lock = [], [0], threading.Lock()
    start_at = time.perf_counter() + warmup
    stop_at = start_at + seconds

    def worker(first):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine, bad, sent = [], 0, first
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            path = paths[sent % len(paths)]
            sent += 1
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == ok_status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                ok = False
            t1 = time.perf_counter()
            if t0 >= start_at:
                if ok:
                    mine.append(t1 - t0)
                else:
                    bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"requests": len(latencies), "errors": errors[0], "rps": len(latencies) / seconds,
            "p50_ms": percentile(latencies, 50) * 1000,
            "p95_ms": percentile(latencies, 95) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "mean_ms": (statistics.fmean(latencies) * 1000) if latencies else float("nan")}


def show(label, result):
    print(f"{label:<44} {result['rps']:>9.1f} req/s  p50 {result['p50_ms']:7.2f} ms  "
          f"p95 {result['p95_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
          f"({result['requests']} ok, {result['errors']} errors)")
