"""The shop's decisions: what to restock, reorder, discount and promote, from the stock and the sales.

At-risk items and their actions (`at_risk.py`), reorder points and quantities (`reorder.py` with the
inventory maths of `inventory_math.py`), event promotions (`promotions.py`, `audience.py`) and discount
sizing from each item's learned price response (`pricing.py`, `price_response.py`). All three read one view of
the stock: the forecast (`forecast_read.py`), the demand they plan with and reorder's point on it
(`planned_demand.py`), the units that sell before their sell-by day (`stock_view.py`), the stockout before an
order can arrive (`shelf_gap.py`) and how the answers name their demand (`demand_source.py`).

May import: `forecasting` (reorder forecasts its lead-time demand; the shop model's elasticity) and
`records`. Never `analytics` or `jobs`.
"""
