"""Values the vehicle state holds besides real readings.

``NOT_AVAILABLE`` is what a decoder stores when the sender says a signal has no value (an SNA
pattern, a raw value its table does not list, a number out of range): the state reports such a
signal ``unavailable``, never a value. It lives here, in the state layer, so the state needs
nothing from the CAN layer above it; ``assistant.can`` decodes into it.
"""

from __future__ import annotations


class _NotAvailable:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_AVAILABLE"

    def __reduce__(self) -> str:          # one instance, also across copy/pickle
        return "NOT_AVAILABLE"


NOT_AVAILABLE = _NotAvailable()
