"""What every Procura service shares.

For the domain (plain Python and SQLAlchemy; no nameko, kombu or eventlet):
  errors, money, clock, context (caller context, request id), outbox (`emit`), tables
  (declarative base, JSON column), engines (SQLite/PostgreSQL engines and sessions), paging,
  idempotency, schemas (marshmallow pieces), roles (roles and feature rights), csvout,
  tokens, config.

Adapters to nameko and RabbitMQ (used by the service classes, never by a domain):
  entrypoints (`rpc`, `event_handler`), rpc_client (`RpcClient` with timeouts), standalone
  (RPC outside a worker), remote_errors (domain errors cross RPC as themselves),
  unit_of_work (the `Database` dependency that commits before the reply or ack), relay (the
  outbox relay), background (background loops), broker (queues, retries, dead letters),
  base (`ServiceBase`: a service's database, relay and RPC clients), metrics, http, logs,
  runner, migrations.
"""
