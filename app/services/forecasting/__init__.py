"""Forecasting: how much each product will sell, with intervals, drivers and reasons.

`pipeline.forecast` is the whole path in one function (spec -> sales columns -> panel -> shop model or
local families -> answer), with the answer cache, the disk store, each product's latest forecast and
accuracy monitoring as wrappers around it. Also here: the shop models (`shop_models.py` trains and keeps
them, `shop_forecast.py` answers with them) and the caller's drivers (`drivers.py`, `event_effects.py`).

May import: `records` (the audit trail). Never `decisions`, `analytics` or `jobs`.
"""
