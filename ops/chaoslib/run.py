"""Entry point: python3 ops/chaoslib/run.py (ops/chaos runs it after building thepred)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from chaoslib.main import main  # noqa: E402

# Guarded: the CONNECT proxy's process (multiprocessing, spawn) imports this file again.
if __name__ == "__main__":
    sys.exit(main())
