"""Numbers as the answers write them in their sentences: units, counts of units, days."""


def units_text(value: float) -> str:
    """A number of units for people: whole, else one decimal (never 2.92192e-05)."""
    return f"{round(value):d}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def unit_count(number: str, kind: str = "") -> str:
    """A count of units for the reasoning: '1 unit', '2 units', '0.5 units' ('1 usable unit' with `kind`
    'usable'), from its number as written (`units_text`)."""
    noun = f"{kind} unit" if kind else "unit"
    return f"{number} {noun}" if number == "1" else f"{number} {noun}s"


def days_text(days: float) -> str:
    """`supply_days` as the answers write them: one decimal, as `days_of_supply` shows it."""
    shown = round(days, 1)
    return f"{shown:g} day" if shown == 1 else f"{shown:g} days"
