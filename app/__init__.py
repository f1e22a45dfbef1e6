"""SmartShelf ML service."""

__version__ = "0.2.0"
