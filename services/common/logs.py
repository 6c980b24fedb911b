"""Logging filters of every service process (see config.nameko_config's LOGGING)."""
import logging


class ExpectedErrorsInOneLine(logging.Filter):
    """nameko logs a domain error an entrypoint expects (a wrong password, an expired link)
    with its traceback; it is the caller's mistake, not ours: one line is enough."""

    def filter(self, record):
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.exc_info = None
            record.exc_text = None
        return True
