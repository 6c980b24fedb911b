"""identity: companies, users, credentials, groups and rights, tokens, saved payment cards."""
