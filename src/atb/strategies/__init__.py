"""atb's built-in strategies (original code, MIT).

Use them by class name: ``AtbEmaRsiTrend``, ``AtbBollingerReversion``, ``AtbDonchianBreakout``.
"""
