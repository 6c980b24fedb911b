"""Notifications: every email the portal sends, rendered from events in the recipient's
language, queued in notifications' own database and delivered over SMTP."""
