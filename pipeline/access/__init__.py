"""Who may do what: identities, users and sign-in, review links, the audit log, the permission rules."""
