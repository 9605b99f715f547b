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
    p.add_argument("--wait", type=float, default=1.2,
                   help="live bus: seconds to collect frames before answering (default 1.2)")
    add_bus_args(p)


def add_assistant_args(p: argparse.ArgumentParser) -> None:
    add_vehicle_args(p)
    p.add_argument("--persona", help="persona .yaml (name, tone, units, language)")
    p.add_argument("--model", help="GGUF model file (default: $ASSISTANT_MODEL or models/" 
                                   "SmolLM2-135M-Instruct.Q4_1.gguf)")
    p.add_argument("--no-model", action="store_true",
                   help="answer with the deterministic rendering only (no language model)")


def open_vehicle(args: argparse.Namespace):
    """Start the vehicle data path the command asked for (scenario or live bus)."""
    import time
    from assistant.vehicle import LiveVehicle
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
    import os
    from assistant.pipeline import Assistant
    model = None
    if not getattr(args, "no_model", False):
        from assistant.llm.model import LocalModel, ModelConfig
        path = args.model or os.environ.get("ASSISTANT_MODEL")
        model = LocalModel(ModelConfig(path=path) if path else ModelConfig())
    persona = None
    if getattr(args, "persona", None):
        from assistant.persona import load_persona
        persona = load_persona(args.persona)
    if persona is not None:
        return Assistant(vehicle.state, model, style=persona.style(), name=persona.name, tone=persona.tone_text(),
                         persona=persona)
    return Assistant(vehicle.state, model)
