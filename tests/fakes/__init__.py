"""Fakes that speak a real protocol over loopback (see STYLE.md: fakes only where the real thing is out of reach)."""
