"""jixiao: policy assistant for the heavy-pollution-weather performance rating (绩效分级)."""

__version__ = "0.1.0"
