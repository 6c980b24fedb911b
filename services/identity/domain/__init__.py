"""identity's business rules, as plain functions on a SQLAlchemy session. They raise
services.common.errors, write events through the outbox in the caller's transaction and never
commit: the service's unit of work does, and keeps what a failure must not undo (a failed
login, a reused refresh token) when the error says so (`keeping_changes`).

  accounts       finding users, creating them, their passwords and the password rules
  auth           logins: rate limits, lockout, disabled accounts, expired passwords
  tokens         access and refresh tokens: issuing, rotation, reuse detection, logout
  revocations    refusing a user's tokens (rights changed, disabled, password changed)
  links          one-time link tokens (set password, reset password, confirm an email)
  recovery       forgotten usernames and passwords
  profile        the caller's own account: profile, email change, password, preferences
  cards          saved payment cards and their consent
  companies      companies, billing accounts, addresses and their standard groups
  company_users  users as a security administrator manages them
  groups         a company's groups and their rights
  directory      people other services look up (approvers, recipients)
  housekeeping   forgetting what no rule needs any more
"""
SOURCE = "identity"
