"""Base model for every config section: unknown keys are refused (Frigate's rule)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict


class StrictModel(BaseModel):
    # YAML reads .inf and .nan as floats; no setting means either.
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True, allow_inf_nan=False)


def _yaml_onoff(v):
    # YAML 1.1 reads unquoted on/off/yes/no as booleans; users mean the words.
    if v is True:
        return "on"
    if v is False:
        return "off"
    return v.lower() if isinstance(v, str) else v


OnOff = Annotated[Literal["on", "off"], BeforeValidator(_yaml_onoff)]
