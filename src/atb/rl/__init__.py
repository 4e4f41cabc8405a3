"""Reinforcement learning: a gymnasium environment with the backtest's fill and fee semantics, agents."""
