"""OS effects: atomic files, ownership checks, ACLs, syslog."""
