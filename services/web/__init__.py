"""web: the household page and its HTTP API, a fleet service on the LAN (docs/web.md)."""
