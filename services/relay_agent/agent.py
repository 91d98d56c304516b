"""The relay agent's I/O shell: lock file, GPIO, FleetClient, EventLoop timers, persistence,
watchdog. Decisions are the pure Fleet's; this file only wires events to it and applies
the switches it returns. Everything that touches the fleet or the pins holds `self.lock`,
which the watchdog thread takes too.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

from circuitq import topics
from circuitq.config import ConfigError
from circuitq.payloads import Alert
from circuitq.service import ServiceContext
from circuitq.state import check_state_dir

from . import store
from .core import CommandError, Now
from .fleet import Fleet
from .gpio import make_driver
from .hardware import Hardware, check_wirings, resolve_channels
from .keepalive import Keepalive
from .lockfile import AlreadyRunning, InstanceLock, LockUnavailable
from .state import activity, drm_state, relay_state
from .watchdog import Watchdog

EXIT_LOCKED = 3
STATE_FILE = "relay_agent.json"
COMMAND_TOPICS = {"relay": (topics.RELAY_COMMAND, "relay"), "drm": (topics.DRED_COMMAND, "output")}
STATE_TOPICS = {"relay": (topics.RELAY_STATE, "relay"), "drm": (topics.DRED_STATE, "output")}
# A pin that reads back unlike the level the core decided (a write that raised, a DRM plan cut
# short) is written again after RETRY_S, doubling up to RETRY_MAX_S (seconds): the core already
# counts the output as switched, so without this a failed release would leave a relay on past
# its lease, forever; the back-off keeps a pin something else drives from chattering at 1 Hz.
RETRY_S = 1.0
RETRY_MAX_S = 60.0
# The state file is written this long after the switch was published (seconds; default 0:
# right after). Only for the crash-window test (store.py says what a crash there loses).
PERSIST_DELAY_S = float(os.environ.get("CIRCUITQ_RELAY_PERSIST_DELAY_S") or 0)


def build(ctx: ServiceContext) -> "RelayAgent":
    relays, drm = resolve_channels(ctx.cfg)  # ConfigError (exit 2) before anything is touched
    wirings = check_wirings(ctx.cfg)
    check_state_dir(ctx.cfg.state_dir, store.WHAT)  # StateDirError (exit 2), before any pin
    lock = InstanceLock(ctx.cfg.relay_agent.lock_file)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"relay_agent: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_LOCKED)
    except LockUnavailable as exc:  # exit 2 like any config error, before any pin
        raise ConfigError(f"relay_agent.lock_file: {exc}") from None
    ra = ctx.cfg.relay_agent
    keepalive = Keepalive(ra.watchdog_device, ra.watchdog_device_timeout_s)
    try:
        keepalive.open()
    except OSError as exc:
        lock.release()
        raise ConfigError(f"relay_agent.watchdog_device: cannot open {ra.watchdog_device}: "
                          f"{exc.strerror or exc}; refusing to start, no pin touched") from None
    hw = Hardware(relays, drm, wirings, make_driver(ra))
    return RelayAgent(ctx, hw, lock, keepalive)


class RelayAgent:
    def __init__(self, ctx: ServiceContext, hw: Hardware, lock: InstanceLock | None = None,
                 keepalive: Keepalive | None = None):
        self.ctx, self.hw, self.instance_lock = ctx, hw, lock
        self.keepalive = keepalive or Keepalive(None, 0, env={})
        self.save_due = None  # the coalesced write of the state file, when one is pending
        self.ra = ctx.cfg.relay_agent
        self.client, self.loop, self.log = ctx.client, ctx.loop, ctx.log
        self.lock = threading.RLock()
        self.store_path = ctx.state_path(STATE_FILE)
        self.boot_id = store.current_boot_id()  # saved times rebased on the monotonic clock
        now = self.now()
        self.fleet = Fleet(ctx.cfg, now, store.load(self.store_path, now, self.boot_id), hw.wirings)
        self.published: dict[tuple[str, str], str] = {}
        self.timer = None
        self.broker_lost = False
        self.faults: set[str] = set()
        # outputs whose pins are not yet as decided -> (writes tried, monotonic time of the next)
        self.unsettled: dict[tuple[str, str], tuple[int, float]] = {}
        # Commands run on the MQTT network thread (no hand-off: the read-back goes out from
        # the thread that received the command); `busy_since` lets the watchdog and the
        # keep-alives see a command that hangs there as well as a stalled loop.
        self.busy_since: float | None = None
        self.watchdog = Watchdog(self._heartbeat, ctx.clock.monotonic, self.ra.watchdog_s,
                                 self._on_stall)

    def now(self) -> Now:
        return Now(self.ctx.clock.monotonic(), self.ctx.clock.now())

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        # circuitq.service turns SIGTERM/SIGINT into a clean stop; SIGHUP (an ssh session that
        # drops under an agent started by hand) would kill it on the spot, pins as they are and
        # no lease enforced by anyone. For the one process that drives mains: a stop too.
        try:
            signal.signal(signal.SIGHUP, self._on_hangup)
        except ValueError:  # not the main thread (a test driving start() from a worker)
            pass
        with self.lock:  # boot levels on the pins BEFORE the MQTT client exists on the network
            self.hw.boot(self.fleet.values(), self.fleet.previous)
            self._save()
        for kind, sw in self.fleet.restart_switches():
            self.log.info("%s %s: %s -> %s at start-up (%s)", kind, sw.name, sw.old, sw.new, sw.cause)
        self.log.info("boot levels applied: %s", self.fleet.values())
        base, c = self.ctx.base, self.client
        for kind, (entry, _) in COMMAND_TOPICS.items():
            c.subscribe(entry.filter(base), self._watched(lambda t, p, r, k=kind: self._command(k, t, p, r)),
                        inline=True)
        # Inline like the commands: a retained `offline` received before a command must also
        # be handled before it (through the loop it could come after, and undo the command).
        c.subscribe(topics.STATUS.topic(base, service="scheduler"), self._watched(self._on_scheduler_status),
                    inline=True)
        c.on_connect_hooks.append(self._on_connect)
        c.on_disconnect_hooks.append(self._on_disconnect)
        self.loop.call_later(self.ra.broker_grace_s, self._check_broker)  # never connected at all
        self._reschedule()
        self.watchdog.start()
        self.keepalive.start(self.loop, self._healthy)

    def shutdown(self) -> None:
        self.watchdog.stop()
        with self.lock:
            self._apply(self.fleet.fallback_all(self.now(), "safe:shutdown"))
            self._reassert(force=True)  # the last chance to put a pin right
            infos = self._publish_states(force=True)
            self._save()
        for info in infos:
            try:
                info.wait_for_publish(1.0)
            except Exception:  # not connected: the retained state goes out on the next start
                pass
        self.keepalive.stop(clean=True)  # outputs are safe: disarm the board's watchdog
        self.hw.close()
        if self.instance_lock:
            self.instance_lock.release()

    def _on_hangup(self, signum, frame) -> None:
        self.log.info("signal SIGHUP: shutting down")
        self.loop.stop()

    # ---------------------------------------------------------------- events (loop thread)
    def _heartbeat(self) -> float:
        """The loop's heartbeat, or when the command in hand started if that is older."""
        busy = self.busy_since
        return self.loop.heartbeat if busy is None else min(self.loop.heartbeat, busy)

    def _healthy(self) -> bool:
        """For the keep-alives: stop feeding the outer keepers once a command has held the
        agent for half of watchdog_s (commands take milliseconds), before the watchdog acts."""
        busy = self.busy_since
        return busy is None or self.ctx.clock.monotonic() - busy < self.ra.watchdog_s / 2

    def _watched(self, handler):
        """A handler run on the MQTT network thread, watched like the loop (busy_since)."""
        def run(topic: str, payload: bytes, retained: bool) -> None:
            self.busy_since = self.ctx.clock.monotonic()
            try:
                handler(topic, payload, retained)
            finally:
                self.busy_since = None
        return run

    def _on_command(self, kind: str, topic: str, payload: bytes, retained: bool) -> None:
        self._watched(lambda t, p, r: self._command(kind, t, p, r))(topic, payload, retained)

    def _command(self, kind: str, topic: str, payload: bytes, retained: bool) -> None:
        entry, placeholder = COMMAND_TOPICS[kind]
        name = (entry.match(self.ctx.base, topic) or {}).get(placeholder, "")
        with self.lock:
            try:
                sw = self.fleet.command(kind, name, payload, retained, self.now())
            except CommandError as exc:
                self.client.report_error(topic, payload, str(exc))
                return
            self._apply([(kind, sw)] if sw else [], persist=True)  # a renewal moves the lease

    def _on_scheduler_status(self, topic: str, payload: bytes, retained: bool) -> None:
        if payload.strip() == topics.OFFLINE.encode() and self.ra.scheduler_offline_safe:
            self.log.warning("scheduler offline: every output to its safe state")
            self._fallback("safe:scheduler_offline")

    def _on_connect(self) -> None:
        self.broker_lost = False
        with self.lock:
            self._publish_states(force=True)  # retained state may be gone (broker restart)

    def _on_disconnect(self) -> None:
        self.loop.call_later(self.ra.broker_grace_s, self._check_broker)

    def _check_broker(self) -> None:
        down = self.ctx.clock.monotonic() - (self.client.last_disconnected_mono or 0.0)
        if not self.client.connected.is_set() and not self.broker_lost and down >= self.ra.broker_grace_s - 0.05:
            self.broker_lost = True
            self.log.warning("broker unreachable for %.0f s: every output to its safe state", down)
            self._fallback("safe:broker_lost")

    def _on_timer(self) -> None:
        self.timer = None
        with self.lock:
            self._apply(self.fleet.tick(self.now()))

    def _fallback(self, cause: str) -> None:
        with self.lock:
            self._apply(self.fleet.fallback_all(self.now(), cause))

    # ---------------------------------------------------------------- applying decisions
    def _apply(self, switches, persist: bool = False) -> None:
        """Write the pins for the fleet's switches, publish the read-back, re-arm the timer,
        then persist (coalesced, off the reaction path: store.py says what a crash loses)."""
        try:
            now = self.ctx.clock.now()
            for kind, sw in switches:
                self._write(kind, sw.name, sw.new)
            self._reassert()
            self._publish_states()
            for kind, sw in switches:
                self.log.info("%s %s: %s -> %s (%s)", kind, sw.name, sw.old, sw.new, sw.cause)
                self._send(topics.ACTIVITY, activity(kind, sw, now))
        finally:  # whatever failed above, the next lease end / eligible_at must still fire
            self._reschedule()
            if (switches or persist) and self.save_due is None:
                # one write for everything decided until the loop gets to it
                self.save_due = self.loop.call_later(PERSIST_DELAY_S, self._save_now)

    def _save_now(self) -> None:
        with self.lock:
            self.save_due = None
            self._save()

    def _write(self, kind: str, name: str, value) -> bool:
        try:
            self.hw.write(kind, name, value)
            return True
        except Exception:  # retried by _reassert; the read-back in the state shows the fault
            self.log.exception("%s %s: GPIO write failed", kind, name)
            return False

    def _read(self, kind: str, name: str):
        try:
            return self.hw.read(kind, name)
        except Exception:
            self.log.exception("%s %s: GPIO read-back failed", kind, name)
            return None  # unknown: never equal to a decided level, so it is written again

    def _reassert(self, force: bool = False) -> None:
        """Write again every output whose pins read back unlike the core's decided level.

        Not a new decision (the switch was decided, counted and limited already): only the
        pins catching up. A DRM output is planned from its read-back, so the rest of a cut
        short transition still passes only through the old or the new mode. `force` (shutdown,
        watchdog): now, whatever the back-off."""
        mono = self.ctx.clock.monotonic()
        for kind, name, core in self.fleet.all():
            key = (kind, name)
            if self._read(kind, name) == core.value:
                self.unsettled.pop(key, None)
                continue
            tried, due = self.unsettled.get(key, (0, mono))
            if not force and mono < due:
                continue
            if tried == 0:
                self.log.error("%s %s: pins read back unlike %s; writing it again (back-off %.0f-%.0f s)",
                               kind, name, core.value, RETRY_S, RETRY_MAX_S)
            if self._write(kind, name, core.value) and self._read(kind, name) == core.value:
                self.unsettled.pop(key, None)
                continue
            self.unsettled[key] = (tried + 1, mono + min(RETRY_S * 2 ** min(tried, 16), RETRY_MAX_S))

    def _reschedule(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        deadline = self.fleet.next_deadline()
        if self.unsettled:
            retry = min(due for _, due in self.unsettled.values())
            deadline = retry if deadline is None else min(deadline, retry)
        # A timer at the next lease end / eligible_at, not polling; +1 ms so `now` is past it.
        self.timer = None if deadline is None else self.loop.call_at(deadline + 0.001, self._on_timer)

    def _save(self) -> None:
        try:
            now = self.now()
            store.save(self.store_path, self.fleet.wear(now), now, self.boot_id)
        except OSError:  # logged and alerted by circuitq.state (MONITOR -> FleetClient)
            pass

    def _state(self, kind: str, name: str, core):
        if kind == "relay":
            return relay_state(core, self.hw.read_relay(name))
        return drm_state(core, self.hw.read_mode(name), self.hw.read_drm(name))

    def _publish_states(self, force: bool = False) -> list:
        infos = []
        for kind, name, core in self.fleet.all():
            try:
                state = self._state(kind, name, core)
            except Exception:  # no read-back, no state: never publish the command as the level
                self.log.exception("%s %s: cannot read back the pins for its state", kind, name)
                continue
            self._check_readback(name, state.reason.code == "fault:readback")
            payload = state.model_dump_json()
            if not force and self.published.get((kind, name)) == payload:
                continue
            if not self.client.connected.is_set():
                continue  # republished on connect; paho would otherwise queue stale states
            entry, placeholder = STATE_TOPICS[kind]
            infos.append(self.client.publish_entry(entry, payload, **{placeholder: name}))
            self.published[(kind, name)] = payload
        return infos

    def _check_readback(self, name: str, fault: bool) -> None:
        """Alert once when a pin reads back unlike what was written, and when it recovers."""
        if fault == (name in self.faults) or not self.client.connected.is_set():
            return  # nothing new, or nobody to tell yet (checked again on the next publish)
        (self.faults.add if fault else self.faults.discard)(name)
        self.log.error("%s: read-back fault %s", name, "detected" if fault else "cleared")
        self._send(topics.ALERT, Alert(key=f"readback:{name}", title=f"{name}: relay read-back fault",
                                       message=f"{name}: the pin reads back a different level than "
                                               f"the relay agent wrote", priority=1,
                                       source="relay_agent", resolved=not fault, ts=self.ctx.clock.now()))

    def _send(self, entry, model) -> None:
        if self.client.connected.is_set():
            try:
                self.client.publish_entry(entry, model)
            except Exception:
                self.log.exception("could not publish on %s", entry.key)

    # ---------------------------------------------------------------- watchdog thread
    def _on_stall(self, age: float) -> None:
        got = self.lock.acquire(timeout=2.0)  # the loop may be stuck holding it: act anyway
        try:
            self._apply_safe_from_watchdog()
        finally:
            if got:
                self.lock.release()

    def _apply_safe_from_watchdog(self) -> None:
        switches = self.fleet.fallback_all(self.now(), "safe:watchdog")
        for kind, sw in switches:
            self._write(kind, sw.name, sw.new)
        self._reassert(force=True)  # the stalled loop may have died half-way through a write
        infos = self._publish_states(force=True)  # only if connected: publishes nothing it can't
        if self.busy_since is not None and infos:
            # The MQTT network thread is the one stuck (in a command): it will never send these.
            # It is not writing either, so this thread may put them on the socket itself.
            try:
                self.client.paho.loop_write()
            except Exception:
                self.log.exception("watchdog: could not send the safe states")
        for info in infos:
            try:
                info.wait_for_publish(0.5)
            except Exception:
                pass
        self._save()
