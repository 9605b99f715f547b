"""Which CAN bus to use, and opening it with python-can.

Precedence: command-line flags > environment (``ASSISTANT_CAN_INTERFACE``,
``ASSISTANT_CAN_CHANNEL``, ``ASSISTANT_CAN_BITRATE``) > defaults (socketcan ``vcan0``).
Any python-can interface works (``socketcan``, ``virtual``, ``pcan``, ``slcan``, ...).
"""

from __future__ import annotations

import os

import can
from pydantic import BaseModel, ConfigDict, Field

from assistant.errors import UserError

DEFAULT_INTERFACE = "socketcan"
DEFAULT_CHANNEL = "vcan0"


class BusOpenError(UserError, RuntimeError):
    """The CAN interface cannot be opened (the message says how to bring it up)."""


class BusConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interface: str = Field(DEFAULT_INTERFACE, description="python-can interface name")
    channel: str = Field(DEFAULT_CHANNEL, description="interface channel, e.g. vcan0, can0")
    bitrate: int | None = Field(None, gt=0, description="only for interfaces that set it themselves")
    fd: bool = False

    @classmethod
    def resolve(cls, interface: str | None = None, channel: str | None = None,
                bitrate: int | None = None) -> "BusConfig":
        env = os.environ
        br = bitrate or (int(env["ASSISTANT_CAN_BITRATE"]) if env.get("ASSISTANT_CAN_BITRATE") else None)
        return cls(interface=interface or env.get("ASSISTANT_CAN_INTERFACE") or DEFAULT_INTERFACE,
                   channel=channel or env.get("ASSISTANT_CAN_CHANNEL") or DEFAULT_CHANNEL,
                   bitrate=br)

    def describe(self) -> str:
        return f"{self.interface}:{self.channel}"


def open_bus(cfg: BusConfig, can_filters: list[dict] | None = None, **kw) -> can.BusABC:
    """Open the bus, turning python-can's many failure types into one clear BusOpenError."""
    kwargs = dict(interface=cfg.interface, channel=cfg.channel, can_filters=can_filters, **kw)
    if cfg.bitrate:
        kwargs["bitrate"] = cfg.bitrate
    if cfg.fd:
        kwargs["fd"] = True
    try:
        return can.Bus(**kwargs)
    except (can.CanError, OSError, ValueError, ImportError, NotImplementedError) as e:
        hint = ""
        if cfg.interface == "socketcan":
            hint = (f" (is {cfg.channel} up? on a bench: sudo ./vcan-setup.sh up {cfg.channel}; "
                    "without vcan use --scenario NAME, or --log FILE for a recording; python-can's "
                    "virtual interface works only within one process)")
        raise BusOpenError(f"cannot open CAN bus {cfg.describe()}: {e}{hint}") from None
