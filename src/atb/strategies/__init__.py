"""atb's built-in strategies (original code, MIT).

Use them by class name:

- technical: ``AtbEmaRsiTrend``, ``AtbBollingerReversion``, ``AtbDonchianBreakout``;
- AI signals: ``RegimeAdaptive`` (SMA regime switching setups), ``SentimentFusion`` (trend plus
  news sentiment and event vetoes, ``sentiment`` config section), ``MLBasic`` (LightGBM
  walk-forward, ``ml`` config section, needs the ``[ml]`` extra) and ``RLAgent`` (a saved
  stable-baselines3 policy from ``atb train --rl``, ``rl_policy_path`` config key, needs ``[rl]``).
"""
