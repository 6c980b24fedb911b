"""The one clock of every service: naive UTC datetimes, as every table stores them."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def utc_today():
    """Today's date in UTC, the day contracts, programs and schedules are counted in."""
    return utcnow().date()
