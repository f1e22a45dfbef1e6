"""The panel's closed-day fill (app/models/panel.py): a closed day's zero is the product's open-day level."""

import numpy as np

from app.models.panel import CLOSED_FILL_WINDOW, build_panel
from app.utils.sales_frame import SalesColumns


def test_a_closure_longer_than_the_fill_window_is_filled_with_the_level_before_it_all_along():
    """The weeks between an old export's end and as_of (closed: no product sold) are all the level before them,
    not less and less of it, nor zeros once the window has no open day."""
    days = np.arange(100, 160, dtype=np.int64)  # 60 open days selling 1, 2, 3, 1, 2, 3, ...
    sales = SalesColumns(product=np.zeros(days.size, dtype=np.int64), day=days,
                         qty=(days % 3 + 1).astype(np.float64), product_ids=np.array(["a"], dtype=object),
                         row=np.arange(days.size), revenue=None)
    origin = 159 + 2 * CLOSED_FILL_WINDOW
    panel, repairs = build_panel(sales, "daily", set(), origin, lambda d: d > 159)
    tail = panel.values[0, 60:]
    assert tail.size == 2 * CLOSED_FILL_WINDOW and repairs.closed_filled == tail.size
    assert np.allclose(tail, np.mean(panel.values[0, 60 - CLOSED_FILL_WINDOW:60]))
    assert repairs.extended == 0  # the product sold on the last open day: no silence
