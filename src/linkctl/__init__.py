"""linkctl: declare, apply, watch and diagnose Linux network links."""

__version__ = "0.1.0"
