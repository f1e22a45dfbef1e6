"""SmartShelf ML service."""

__version__ = "0.5.0"
