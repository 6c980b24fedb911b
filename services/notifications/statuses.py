"""The statuses of an outgoing message (models.OutgoingMail.status), apart from the models so
that the schemas, and the gateway that documents its endpoints with them, need no database
library."""
QUEUED = "queued"          # waiting to be sent (next_attempt_at says when)
SENDING = "sending"        # claimed by a delivery worker (claimed_at, claimed_by)
SENT = "sent"              # accepted by the SMTP server
FAILED = "failed"          # refused for good, or out of attempts; an operator may requeue it
SUPPRESSED = "suppressed"  # optional mail the recipient opted out of: kept, never sent
STATUSES = (QUEUED, SENDING, SENT, FAILED, SUPPRESSED)
