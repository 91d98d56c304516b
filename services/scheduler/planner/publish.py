"""The plan as the retained `circuitq/plan` payload: the next 24 h per planned load."""
from __future__ import annotations

from datetime import datetime, timedelta

SHOWN = timedelta(hours=24)


def plan_payload(ps, st, now: datetime) -> dict:
    plan = ps.plan
    pol = st.policy
    end = now + SHOWN
    n = sum(1 for s in plan.starts if s < end)
    slots = [{"start": plan.starts[i], "import_per_kwh": plan.imp[i], "export_per_kwh": plan.exp[i],
              "solar_w": round(plan.solar_w[i])} for i in range(n)]
    loads, total = {}, 0.0
    for name, s in plan.loads.items():
        runs, i = [], 0
        while i < n:
            if not s.on[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and s.on[j + 1]:
                j += 1
            kwh = sum(s.kwh[i:j + 1])
            solar = sum(1 for k in range(i, j + 1) if plan.from_solar(name, k)) * 2 > j - i + 1
            cost = sum(s.kwh[k] * (plan.exp[k] if plan.from_solar(name, k) else plan.imp[k])
                       for k in range(i, j + 1))
            code = ("planned:run" if s.contract == "comfort"
                    else "planned:solar" if solar else "planned:cheap")
            runs.append({"start": plan.starts[i], "end": plan.ends[j], "code": code,
                         "kwh": round(kwh, 2), "cost": round(cost, 3)})
            total += cost
            i = j + 1
        v = ps.decisions.get(name)
        tank = ps.tanks.get(name)
        loads[name] = {"contract": s.contract, "runs": runs, "text": v.text if v else "",
                       "need_kwh": round(tank.deficit_kwh, 2) if tank else None}
    return {"made": now, "slot_min": pol.sched.planner.slot_min,
            "currency": pol.tariff.currency if pol.tariff else "", "slots": slots, "loads": loads,
            "cost": round(total, 2)}
