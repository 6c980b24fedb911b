"""A service's background worker: one managed green thread that runs a cycle every few
seconds, or at once when a committed worker kicks it (Database.after_commit_hooks).

Used by the outbox relay and by catalog's search indexer. A cycle returns True when there
may be more work at once; an exception in a cycle is logged and the loop goes on.
"""
import logging

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

from services.common.config import env
from services.common.unit_of_work import Database

log = logging.getLogger(__name__)


class BackgroundLoop(DependencyProvider):
    # an environment variable that turns the loop off with "off", and one that sets the
    # interval in seconds
    switch_env: str | None = None
    interval_env: str | None = None
    # whether a committed worker wakes the loop (the relay: yes; timers: no)
    wake_on_commit = True
    # seconds between cycles, unless `interval_env` or the constructor says otherwise
    interval: float = 1.0

    def __init__(self, interval: float | None = None):
        if interval is not None:
            self.interval = interval
        self.wakeup = Event()
        self.running = False
        self.gt = None

    def setup(self):
        self.database = next(d for d in self.container.dependencies if isinstance(d, Database))
        if self.wake_on_commit:
            self.database.after_commit_hooks.append(self.kick)
        if self.interval_env:
            self.interval = float(env(self.interval_env, self.interval))

    def enabled(self) -> bool:
        if self.switch_env and env(self.switch_env) == "off":
            log.warning("%s disabled by %s=off", type(self).__name__, self.switch_env)
            return False
        return True

    def start(self):
        if not self.enabled():
            return
        self.running = True
        self.gt = self.container.spawn_managed_thread(self._run)

    def stop(self):
        self.running = False
        self.kick()
        if self.gt is not None:
            self.gt.wait()

    def kill(self):
        self.running = False
        if self.gt is not None:
            self.gt.kill()

    def kick(self):
        if not self.wakeup.ready():
            self.wakeup.send(True)

    def wake_relay(self):
        """Wake the loops that follow commits (the outbox relay) after a cycle committed
        events of its own, outside any worker."""
        for hook in self.database.after_commit_hooks:
            if hook != self.kick:  # this loop's cycle has just run
                hook()

    def cycle(self) -> bool:
        """One round of the subclass's work (every user of this class defines it): True
        when there may be more to do at once."""
        raise NotImplementedError

    def _run(self):
        while self.running:
            try:
                if self.cycle():
                    eventlet.sleep(0)  # let the service's workers in
                    continue
            except Exception:
                log.exception("%s of %s failed; retrying", type(self).__name__,
                              self.container.service_name)
            with eventlet.Timeout(self.interval, False):
                self.wakeup.wait()
            self.wakeup = Event()
