"""Kernel adapters: the only code that touches the system (netlink, namespaces, ethtool, logs)."""
