"""The connector's domain library. Never imports azure.functions."""

__version__ = "0.1.0"
