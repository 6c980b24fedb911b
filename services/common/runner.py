"""Run one service as its own process: `procura serve orders`.

The same command is used by `make run` (through the Procfile) and by every container in
docker-compose, so both start services identically.
"""
import importlib
import inspect
import logging
import logging.config
import signal

import eventlet

from services.common.config import nameko_config

log = logging.getLogger(__name__)


def service_class(service: str):
    module = importlib.import_module(f"services.{service}.service")
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if obj.__module__ == module.__name__ and getattr(obj, "name", None) == service:
            return obj
    raise LookupError(f"no nameko service called {service!r} in {module.__name__}")


def all_service_classes(names):
    return [service_class(n) for n in names]


def serve(service: str):
    from nameko.runners import ServiceRunner

    from services.common.broker import declare_topology

    config = nameko_config(service)
    logging.config.dictConfig(config["LOGGING"])
    cls = service_class(service)
    # Consumer queues exist before the first event can be published to them, whatever
    # the start order of the services.
    declare_topology([cls], uri=config["AMQP_URI"])
    runner = ServiceRunner(config)
    runner.add_service(cls)

    def shutdown(signum, frame):
        # stop in a green thread: the signal handler must not block the hub
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    log.info("%s started", service)
    runnlet = eventlet.spawn(runner.wait)
    while True:
        try:
            runnlet.wait()
            break
        except OSError:  # interrupted system call
            continue
    log.info("%s stopped", service)
