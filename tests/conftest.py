import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "package", "bin")
if ENGINE not in sys.path:
    sys.path.insert(0, ENGINE)

# shared test helpers at this level (list_sink.py) import from any test folder
TESTS = os.path.dirname(os.path.abspath(__file__))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
