"""The ``explain_code`` tool: what one trouble code means, and whether this car has it stored.

Any well-formed code is explained: from the generic table when it is listed, otherwise from its
structure (system, generic / manufacturer-specific / reserved, subsystem; see
:mod:`assistant.state.dtc`). Whether it is stored comes from a fresh reading of
``Vehicle.Diagnostics.DTCList``: ``stored`` is None when that list cannot be read (stale, not
available, never received) or the car does not report it, and the answer says so instead of
calling the code "not stored".

The tool takes a view with ``read(name) -> Quantity`` (:class:`assistant.tools.vehicle.
VehicleView`); it is registered in ``assistant.tools.vehicle.TOOLS``.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.state import dtc
from assistant.tools.schemas import Status

DTC_LIST = "Vehicle.Diagnostics.DTCList"


class CodeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=dtc.DTC_PATTERN,
                      description="the trouble code asked about, e.g. P0420: a letter P, C, B or U, a digit 0-3 "
                                  "and three hex digits")

    @field_validator("code", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v


class CodeResult(BaseModel):
    code: str
    system: str = Field(description="powertrain, chassis, body or network (the code's letter)")
    scope: dtc.Scope = Field(description="generic (the standard's meaning), manufacturer (the make's) or reserved")
    group: Optional[str] = Field(None, description="the subsystem a generic code's third character names")
    known: bool = Field(description="the offline table describes this code")
    description: str = Field(description="what the code means (English), or what its structure says")
    advice: Optional[dtc.Advice] = Field(None, description="for a listed code: keep_driving, check_soon or stop")
    stored: Optional[bool] = Field(None, description="whether this car has the code stored now; None when the "
                                                     "stored codes cannot be read")
    stored_codes_status: Status = Field("ok", description="the status of the stored-codes reading")


def explain_code(view: Any, args: CodeArgs) -> CodeResult:
    i = dtc.info(args.code)
    codes = view.read(DTC_LIST)
    stored = (i.code in (codes.value or [])) if codes.ok else None
    return CodeResult(code=i.code, system=i.system, scope=i.scope, group=i.group, known=i.known,
                      description=dtc.describe(i.code, "en"), advice=i.advice, stored=stored,
                      stored_codes_status=codes.status)


DESCRIPTION = ("What one trouble code (P0420, U0100, C1234, ...) means, what it means for the driver, and whether "
               "this car has it stored now.")
