"""Buyers checking out in a loop, as bench/checkout.py and bench/saga_floor.py drive a
system: each buyer, on its own keep-alive connection, creates a cart, adds one to three
lines, and places the order with a purchase order, then starts again, for a fixed time."""
import random
import threading
import time
import uuid

import requests

ADDRESS = {"name": "HQ", "line1": "1 King St W", "city": "Toronto", "region": "ON",
           "postal_code": "M5H 1A1", "country": "CA"}


def checkout_loop(api, headers, parts, buyers, seconds):
    """`buyers` threads checking out carts of 1-3 of `parts` at `api` (the base of
    /carts and /orders) for `seconds`: {latencies (sorted, of POST /orders), errors,
    elapsed}."""
    latencies, errors, lock = [], [], threading.Lock()
    stop_at = time.perf_counter() + seconds

    def buyer(seed):
        rnd = random.Random(seed)
        s = requests.Session()
        s.headers.update(headers)
        while time.perf_counter() < stop_at:
            cart = s.post(api + "/carts", json={"name": "bench"}).json()
            for part in rnd.sample(parts, rnd.randint(1, 3)):
                s.post(api + f"/carts/{cart['id']}/items",
                       json={"part_number": part, "quantity": rnd.randint(1, 3)})
            t0 = time.perf_counter()
            r = s.post(api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                       json={"cart_id": cart["id"], "shipping_address": ADDRESS,
                             "payment": {"method": "purchase_order", "po_number": "PO-B"}})
            t1 = time.perf_counter()
            with lock:
                if r.status_code == 201:
                    latencies.append(t1 - t0)
                else:
                    errors.append(f"{r.status_code}: {r.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


