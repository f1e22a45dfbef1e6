"""SmartShelf ML service."""

__version__ = "0.3.2"
