"""Local fake cloud servers that speak the real wire formats (tests and make demo)."""
