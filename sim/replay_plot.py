"""The replay as one picture: a shared local-time axis; production and consumption on top,
one row per controllable load (permitted band, forced band, running bar), DRM mode steps."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .replay_engine import ReplayResult  # noqa: E402

COLORS = {"production": "#f2a900", "consumption": "#1f4e9c", "permitted": "#b7e4b0",
          "forced": "#f7c59f", "running": "#1b7a2e", "drm": "#8e44ad"}
LONG_SPAN_S = 4 * 86400  # beyond 4 days the power panel shows hourly means
DRM_ORDER = [0, 3, 2, 1]  # least to most restrictive, bottom to top
DRM_LABEL = {0: "DRM0 normal", 3: "DRM3 ≤75 %", 2: "DRM2 ≤50 %", 1: "DRM1 off"}


def _steps(log: list[tuple], end, value) -> tuple[list, list]:
    """x, y for a post-step fill from a change log, closed at `end`."""
    xs = [e[0] for e in log] + [end]
    ys = [value(e) for e in log]
    return xs, ys + ys[-1:]


def _power_kw(series: list[tuple], bucket_s: int) -> tuple[list, list, list]:
    """(times, production kW, consumption kW), averaged over bucket_s if bucket_s > 0."""
    if not bucket_s:
        return [r[0] for r in series], [(r[1] or 0.0) / 1000 for r in series], [r[2] / 1000 for r in series]
    sums: dict[int, list] = {}
    for t, p, c in series:
        acc = sums.setdefault(int(t.timestamp()) // bucket_s, [t, 0.0, 0.0, 0])
        acc[1] += p or 0.0
        acc[2] += c
        acc[3] += 1
    rows = list(sums.values())
    return [r[0] for r in rows], [r[1] / r[3] / 1000 for r in rows], [r[2] / r[3] / 1000 for r in rows]


def plot(res: ReplayResult, path: str, title: str = "") -> None:
    cfg = res.cfg
    tz = cfg.site.tz
    loads = [n for n, c in cfg.loads.items() if c.kind != "observed"]
    drm = list(res.drm)
    rows = 1 + len(loads) + (1 if drm else 0)
    ratios = [3.0] + [0.7] * len(loads) + ([1.2] if drm else [])
    fig, axes = plt.subplots(rows, 1, sharex=True, figsize=(14, 2.2 + 0.75 * rows),
                             gridspec_kw={"height_ratios": ratios, "hspace": 0.12})
    top = axes[0]
    span_s = (res.end - res.start).total_seconds()
    bucket_s = 3600 if span_s > LONG_SPAN_S else 0  # a month of minutes would be a solid blob
    ts, prod, cons = _power_kw(res.series, bucket_s)
    avg = ", hourly mean" if bucket_s else ""
    top.fill_between(ts, prod, step="post", color=COLORS["production"], alpha=0.45,
                     label=f"solar production{avg}")
    top.step(ts, cons, where="post", color=COLORS["consumption"], lw=0.9,
             label="circuits total" + ("" if res.as_recorded else " (what-if)") + avg)
    top.set_ylabel("kW")
    top.grid(alpha=0.3)
    mode = "as recorded" if res.as_recorded else "what-if: loads draw only while permitted"
    top.set_title(f"circuitq replay — {title} ({mode})", fontsize=11, loc="left")

    for ax, name in zip(axes[1:], loads):
        log = res.loads[name]
        xs, plain = _steps(log, res.end, lambda e: 1.0 if e[1] and not e[3].startswith("forced") else 0.0)
        _, forced = _steps(log, res.end, lambda e: 1.0 if e[1] and e[3].startswith("forced") else 0.0)
        _, running = _steps(log, res.end, lambda e: 0.7 if e[2] else 0.3)
        ax.fill_between(xs, 0, plain, step="post", color=COLORS["permitted"], lw=0)
        ax.fill_between(xs, 0, forced, step="post", color=COLORS["forced"], lw=0)
        ax.fill_between(xs, 0.3, running, step="post", color=COLORS["running"], lw=0)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel(name.replace("_", " "), rotation=0, ha="right", va="center", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    handles, _ = top.get_legend_handles_labels()
    handles += [] if not loads else [Patch(color=COLORS["permitted"], label="load permitted"),
                Patch(color=COLORS["forced"], label="load forced on (window, guarantee, runtime)"),
                Patch(color=COLORS["running"], label="load running (measured)")]
    top.legend(handles=handles, loc="upper left", fontsize=8, ncol=5, framealpha=0.95)
    top.set_ylim(0, max(cons + prod + [1.0]) * 1.25)  # headroom for the legend

    if drm:
        ax = axes[-1]
        for name in drm:
            log = [e for e in res.drm[name] if e[1] is not None]
            if not log:
                continue
            xs, ys = _steps(log, res.end, lambda e: DRM_ORDER.index(e[1]))
            ax.step(xs, ys, where="post", lw=1.4, label=f"DRM {name}", color=COLORS["drm"])
        ax.set_yticks(range(len(DRM_ORDER)), [DRM_LABEL[m] for m in DRM_ORDER], fontsize=8)
        ax.set_ylim(-0.4, len(DRM_ORDER) - 0.6)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)

    bottom = axes[-1]
    locator = mdates.AutoDateLocator(tz=tz, minticks=6, maxticks=14)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    bottom.set_xlabel(f"local time ({tz.key})")
    bottom.set_xlim(res.start, res.end)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
