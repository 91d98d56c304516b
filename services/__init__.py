"""circuitq services: each a thin folder run as `python -m services.<name>`."""
