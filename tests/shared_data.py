"""Where the public event logs of ``../shared/data`` are, wherever the checkout lives.

The logs sit beside the project (``../shared/data`` from its root). A clone
elsewhere can point at them with ``PROCFLOW_SHARED_DATA``; tests that need
them skip when none of the places has them.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers import ROOT


def _candidates() -> list[Path]:
    places = [ROOT.parent / "shared" / "data"]
    if os.environ.get("PROCFLOW_SHARED_DATA"):
        places.insert(0, Path(os.environ["PROCFLOW_SHARED_DATA"]))
    places.append(Path("/work/shared/data"))
    return places


SHARED_DATA = next((p for p in _candidates() if (p / "receipt.csv").exists()), _candidates()[0])
