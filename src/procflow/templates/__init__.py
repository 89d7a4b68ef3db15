"""Templates shipped with procflow (the starter process of ``procflow new``)."""
