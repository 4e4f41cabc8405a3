"""Live and paper trading: the engine loop, its scheduler and the composition root."""
