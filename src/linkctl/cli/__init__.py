"""Front ends: thin typer commands over the model, engine and adapters."""
