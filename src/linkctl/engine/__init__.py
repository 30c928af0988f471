"""The engine: carries a plan out through the kernel adapters, verifies, rolls back."""
