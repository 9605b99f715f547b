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


def add_vehicle_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", "-s", help="scenario name or .yaml: simulated in-process on a virtual bus "
                                            "(default: read the live bus)")
    p.add_argument("--profile", help="vehicle profile (default: the scenario's vehicle, else demo)")
    p.add_argument("--log", metavar="FILE",
                   help="read a recorded python-can log (.log .asc .blf .csv .trc ...) instead of a bus; "
                        "no vcan needed (with --profile for a real car's recording)")
    p.add_argument("--wait", type=float, default=1.2,
                   help="live bus: seconds to collect frames before answering (default 1.2)")
    add_bus_args(p)


def add_assistant_args(p: argparse.ArgumentParser) -> None:
    add_vehicle_args(p)
    p.add_argument("--persona", help="persona .yaml (name, tone, units, language)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder of the vehicle history (history.sqlite); default $ASSISTANT_DATA_DIR, else "
                        "~/.local/share/assistant; with --scenario a temporary one holding the scenario's past")
    add_model_args(p)


MODEL_HELP = ("GGUF model: a path, or a file name in models/ (.gguf may be left out); default "
              "$ASSISTANT_MODEL, else models/SmolLM2-135M-Instruct.Q4_1.gguf")


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help=MODEL_HELP)
    p.add_argument("--no-model", action="store_true",
                   help="answer with the deterministic rendering only (no language model)")


def model_arg(args: argparse.Namespace):
    """What ``--model`` / ``--no-model`` ask for, as :func:`assistant.assembly.build_assistant`
    takes it: False (no model), a path or name, or None (``$ASSISTANT_MODEL`` or the default)."""
    return False if getattr(args, "no_model", False) else getattr(args, "model", None)


def open_recording(args: argparse.Namespace, default_at_end: bool = False):
    """``--log FILE`` (with ``--at``/``--speed`` where the command has them) as the car."""
    from assistant.errors import UserError
    from assistant.recording import RecordedVehicle
    if getattr(args, "scenario", None):
        raise UserError("--log and --scenario are two sources for the car: give one")
    at = getattr(args, "at", None)
    if at is None and default_at_end:
        at = "end"
    rec = RecordedVehicle(args.log, args.profile or "demo", at=at, speed=getattr(args, "speed", None) or 1.0)
    return rec.start(wait=getattr(args, "wait", 1.2))


def open_vehicle(args: argparse.Namespace):
    """Start the vehicle data path the command asked for (a recording, a scenario or a live bus)."""
    import time
    from assistant.vehicle import LiveVehicle
    if getattr(args, "log", None):
        return open_recording(args, default_at_end=getattr(args, "at_end", False))
    if args.scenario:
        cfg = bus_config(args) if (args.interface or args.channel) else None
        vehicle = LiveVehicle.from_scenario(args.scenario, cfg, profile=args.profile, on_status=lambda s: None)
        vehicle.start()
    else:
        from assistant.can.bus import open_bus
        cfg = bus_config(args)
        open_bus(cfg).shutdown()          # fail fast with a clear message if the bus is not there
        vehicle = LiveVehicle.from_bus(cfg, args.profile or "demo", on_status=lambda s: None)
        vehicle.start()
        time.sleep(args.wait)
    return vehicle


def build_assistant(args: argparse.Namespace, vehicle):
    """The assistant the command line asks for (``--model``/``--no-model``, ``--persona``)."""
    from assistant import assembly
    return assembly.build_assistant(vehicle.state, model_arg(args), getattr(args, "persona", None))
