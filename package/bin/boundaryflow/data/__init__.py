"""Data tables shipped with the engine (CSV files), read with :func:`read_csv`."""
import csv
import os

DATA_DIR = os.path.dirname(os.path.abspath(__file__))


def data_path(name):
    return os.path.join(DATA_DIR, name)


def read_csv(name):
    """Rows of a shipped CSV table as dicts; lines starting with '#' are comments."""
    with open(data_path(name), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))
