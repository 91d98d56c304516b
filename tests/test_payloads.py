"""Inbound payloads are strict (a typo or a non-finite number is an error naming the field);
outbound ones are lenient so that an older reader survives a newer writer."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from circuitq import payloads as p


@pytest.mark.parametrize("model, raw, field", [
    (p.RelayCommand, '{"state": "on", "lease_s": Infinity, "id": "a"}', "lease_s"),
    (p.RelayCommand, '{"state": "on", "lease_s": NaN, "id": "a"}', "lease_s"),
    (p.DrmCommand, '{"mode": 2, "lease_s": -Infinity, "id": "a"}', "lease_s"),
    (p.ShedRequest, '{"shed": true, "lease_s": NaN, "id": "a"}', "lease_s"),
    (p.OverrideSet, '{"mode": "on", "minutes": Infinity}', "minutes"),
    (p.RelayCommand, '{"state": "on", "lease_s": 30, "id": "a", "leese": 1}', "leese"),
    (p.RelayCommand, '{"state": "toggle", "lease_s": 30, "id": "a"}', "state"),
])
def test_inbound_refuses_non_finite_numbers_unknown_fields_and_bad_values(model, raw, field):
    with pytest.raises(ValidationError) as e:
        model.model_validate(json.loads(raw))
    assert field in {str(loc) for err in e.value.errors() for loc in err["loc"]}


def test_outbound_ignores_keys_it_does_not_know():
    st = p.CircuitPower.model_validate({"w": 5.0, "ts": "2026-07-01T12:00:00+00:00", "new_field": 1})
    assert st.w == 5.0
