"""Analytics: what the sales say, without deciding anything: insights (period series, top items,
seasonality, recommendations), anomalies in sales and stock movements, and the SVG plot of a stored
forecast.

May import: `forecasting` and `records`. Never `decisions` or `jobs`.
"""
