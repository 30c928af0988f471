"""Kernel log analysis: link events, flap episodes, reports."""
