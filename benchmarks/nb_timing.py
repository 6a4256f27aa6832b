"""pytest plugin for benchmarks/course_time.py: records how long each notebook cell takes under
nbval, split into setup (kernel start, on a notebook's first cell) and call, with the cell's source
so the caller can tell imports, data loading and training apart. Writes JSON to $NB_TIMING_OUT."""

import json
import os

_records = []


def pytest_runtest_logreport(report):
    if report.when in ("setup", "call"):
        _records.append({"nodeid": report.nodeid, "when": report.when,
                         "seconds": report.duration, "outcome": report.outcome})


def pytest_collection_modifyitems(items):
    for item in items:
        cell = getattr(item, "cell", None)
        _sources[item.nodeid] = "".join(cell.source) if cell is not None else ""


_sources: dict[str, str] = {}


def pytest_sessionfinish(session):
    out = os.environ.get("NB_TIMING_OUT")
    if out:
        with open(out, "w") as f:
            json.dump({"records": _records, "sources": _sources}, f)
