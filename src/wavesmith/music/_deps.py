"""Quiet imports of the music libraries.

pyfluidsynth prints ``'fluidsynth' was found at ...`` on *stdout* when the ``CI`` environment
variable is set, and pretty_midi imports it on its own import. A CLI whose stdout carries JSON
cannot let a library write there, so these imports send stray prints to nowhere.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from types import ModuleType

__all__ = ["quiet_import"]


def quiet_import(name: str) -> ModuleType:
    """Import module ``name`` with anything it prints on stdout discarded."""
    with contextlib.redirect_stdout(io.StringIO()):
        return importlib.import_module(name)
