"""RNN Workbook: the code the notebooks teach and reuse.

Modules: `data` (seeded generators), `gradcheck` (finite differences and check tables),
`framework` (the NumPy layer framework), `numpy_rnn` / `numpy_lstm` (batched NumPy recurrent code),
`torch_models` (PyTorch from scratch), `training`, `plots`, `widgets`, `workbook` (quick mode, figures).
"""
from __future__ import annotations

import random

import numpy as np

from helpers import validate


def set_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global state and torch (if importable) with `seed` in [0, 2**32)."""
    seed = validate.seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # torch is a dependency, but the NumPy parts work without it
        return
    torch.manual_seed(seed)


__all__ = ["set_seed"]
