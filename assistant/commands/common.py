"""Options shared by several commands."""

from __future__ import annotations

import argparse

from assistant.can.bus import BusConfig


def add_bus_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("CAN bus (default: $ASSISTANT_CAN_INTERFACE/$ASSISTANT_CAN_CHANNEL, else socketcan vcan0)")
    g.add_argument("--interface", "-i", help="python-can interface: socketcan, virtual, pcan, slcan, ...")
    g.add_argument("--channel", "-c", help="channel, e.g. vcan0 or can0")
    g.add_argument("--bitrate", type=int, help="bitrate for interfaces that set it (not socketcan)")


def bus_config(args: argparse.Namespace) -> BusConfig:
    return BusConfig.resolve(args.interface, args.channel, args.bitrate)
