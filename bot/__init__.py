"""jixiao package."""
