"""Audit, diagnose and doctor: evidence read from the kernel, what it means, and the fix.

Nothing in this package changes the system except `kdebug` (which turns a driver's
dynamic debug on and off again) and `persist` (which installs the boot unit).
"""
