"""The report's sections by part; each module registers its builders with `gencli.report.registry.section`.

The parts are imported in page order, so their sections register in that order.
"""

import importlib

PARTS = ("unconditional", "conditional", "bonus", "distributions", "flow", "language")

for _part in PARTS:
    importlib.import_module(f"gencli.report.sections.{_part}")
