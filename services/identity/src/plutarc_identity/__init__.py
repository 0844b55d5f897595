"""plutarc identity: users, workspaces, organisations, roles, invitations, API tokens, audit log."""
