"""The pure model: the declaration format and the kernel's state as typed objects. No I/O but
reading a declaration. Validation and planning, which ask the kinds, are in plan/, above them."""
