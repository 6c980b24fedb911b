"""What every Procura service shares: config, database, outbox, idempotent events,
RPC with timeouts, caller context, errors, money and metrics."""
