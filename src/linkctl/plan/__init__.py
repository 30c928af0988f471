"""Declaration + kernel state -> validation and an ordered plan of operations. Pure: no I/O.

Above the kinds (each kind compares and encodes its own section) and the model (the spec and
state types the kinds use), so the kinds never import the planner that asks them.
"""
