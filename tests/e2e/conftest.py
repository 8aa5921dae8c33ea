import sys
from pathlib import Path

# tests/servers.py (shared server helpers) imports as `servers` from here too
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
