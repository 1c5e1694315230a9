"""A real Ray cluster, contained in a loopback-only network namespace, and a socket monitor.

`LocalCluster` runs ``ray start --head`` and worker nodes joining it, each as a ``--block`` child of
this process, on 127.0.0.2 (Ray keeps that address as given, where it would replace 127.0.0.1 with
the machine's network address), in a temporary folder, with usage stats off, the dashboard off
and every HTTP proxy variable pointing at a closed loopback port. Ray 2.60's ``gcs_server`` and
``raylet`` listen on every interface whatever ``--node-ip-address`` says, so the whole cluster,
every driver that talks to it and the socket monitor run inside one private network namespace
(`NetNamespace`) whose only interface is ``lo``: there, "every interface" is loopback, and no
other host can be reached or reach in. It kills every process it started, and every process those
started, by PID: never ``ray stop``, which would end every Ray process on the machine.

`SocketMonitor` polls ``ss -tanpu`` inside the namespace while the cluster runs and records every
socket of the watched processes whose peer is not a loopback address, every listening address,
and every watched process found outside the namespace.
"""
from __future__ import annotations

import ipaddress
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NODE_IP = "127.0.0.2"
#: A loopback port nothing listens on: proxied HTTP requests fail at once, on this machine.
CLOSED_PORT = 9
BIN = Path(sys.executable).parent


def loopback_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for every cluster process and driver: nothing may leave loopback."""
    env = dict(os.environ if base is None else base)
    proxy = f"http://127.0.0.1:{CLOSED_PORT}"
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = proxy
    loopback = "127.0.0.1,127.0.0.2,localhost,::1"
    env["no_proxy"] = env["NO_PROXY"] = loopback
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _ppids() -> dict[int, int]:
    """pid -> parent pid of every process now."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        out[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def descendants(roots: set[int]) -> set[int]:
    """``roots`` and every live process below them."""
    parents = _ppids()
    found = {r for r in roots if r in parents}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


class NamespaceUnavailable(RuntimeError):
    """Neither ``unshare --net`` (root) nor ``unshare --map-root-user --net`` works here."""


def _net_ns(pid: int) -> str:
    """The network namespace of ``pid`` (``net:[inode]``), or "" once it is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


class NetNamespace:
    """A private network namespace with only ``lo`` (up), held open by one sleeping process.

    Root makes it with ``unshare --net``; anyone else with ``unshare --map-root-user --net`` (a user
    namespace owning it, where ``nsenter`` then needs ``--user`` and ``--preserve-credentials``).
    `wrap` turns a command line into one that runs inside it; nothing else changes (same file
    system, same PIDs), so tests still read, signal and kill those processes directly.
    """

    READY = "lo up"

    def __init__(self) -> None:
        self.holder: subprocess.Popen | None = None
        self.user = False

    @property
    def pid(self) -> int:
        assert self.holder is not None, "the namespace is not started"
        return self.holder.pid

    @property
    def ident(self) -> str:
        """``net:[inode]`` of the namespace, as /proc/<pid>/ns/net reads for its processes."""
        return _net_ns(self.pid)

    def start(self) -> "NetNamespace":
        """Start the holder (root's way first) and check it has only ``lo``; raise
        `NamespaceUnavailable` naming each command that failed and why."""
        ways = ([(["unshare", "--net"], False)] if os.geteuid() == 0 else []) + \
            [(["unshare", "--map-root-user", "--net"], True)]
        failures = []
        for argv, user in ways:
            cmd = [*argv, "--", "sh", "-c", f"ip link set lo up && echo '{self.READY}' && exec sleep infinity"]
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True)
            except OSError as exc:
                failures.append(f"`{shlex.join(cmd)}`: {exc}")
                continue
            ready = proc.stdout.readline().strip() == self.READY  # EOF at once if sh failed
            if ready:
                proc.stdout.close()
                proc.stderr.close()
                self.holder, self.user = proc, user
                try:
                    links = self.links()
                except (NamespaceUnavailable, OSError, subprocess.SubprocessError) as exc:
                    self.stop()
                    failures.append(str(exc))
                    continue
                if links == ["lo"]:
                    return self
                self.stop()
                failures.append(f"`{shlex.join(cmd)}`: the namespace has interfaces {links}, not only lo")
                continue
            proc.kill()
            _, err = proc.communicate()
            failures.append(f"`{shlex.join(cmd)}` (exit {proc.returncode}): "
                            f"{err.strip().splitlines()[-1] if err.strip() else 'no output'}")
        raise NamespaceUnavailable("no private network namespace: " + "; ".join(failures))

    def wrap(self, args: list[str]) -> list[str]:
        """``args`` run inside the namespace (``nsenter`` execs it: the PID stays the same)."""
        enter = ["nsenter", f"--net=/proc/{self.pid}/ns/net"]
        if self.user:
            enter += [f"--user=/proc/{self.pid}/ns/user", "--preserve-credentials"]
        return [*enter, "--", *args]

    def links(self) -> list[str]:
        """Names of the interfaces inside the namespace (``ip -o link``)."""
        out = subprocess.run(self.wrap(["ip", "-o", "link"]), capture_output=True, text=True,
                             timeout=30)
        if out.returncode != 0:
            raise NamespaceUnavailable(f"`{shlex.join(self.wrap(['ip', '-o', 'link']))}` "
                                       f"(exit {out.returncode}): {out.stderr.strip()}")
        return [line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines()]

    def stop(self) -> None:
        """SIGKILL the holder by PID and reap it (the namespace ends with its last process)."""
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
        if self.holder is not None:
            self.holder.wait(timeout=10)


def netns_problem() -> str | None:
    """Why no loopback-only network namespace can be made here (the failing commands), or None."""
    ns = NetNamespace()
    try:
        ns.start()
    except (NamespaceUnavailable, OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    finally:
        ns.stop()
    return None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class LocalCluster:
    """A head (``--num-cpus head_cpus``) and ``workers`` worker nodes of one CPU each, in a
    loopback-only network namespace with every driver (`run`, `spawn`)."""

    def __init__(self, workers: int = 2, head_cpus: int = 1, object_store: int = 80_000_000) -> None:
        self.workers, self.head_cpus, self.object_store = workers, head_cpus, object_store
        # short: Ray's unix sockets live under it (108-byte limit)
        self.tmp = Path(tempfile.mkdtemp(prefix="spray-", dir="/tmp"))
        self.env = loopback_env()
        self.procs: list[subprocess.Popen] = []
        self.drivers: list[subprocess.Popen] = []  # reaped in `stop` too, so no zombie outlives it
        self.roots: set[int] = set()
        self.address = ""
        self.netns = NetNamespace()
        self.monitor = SocketMonitor(self)

    def _start(self, args: list[str], log: str) -> subprocess.Popen:
        out = open(self.tmp / log, "wb")
        proc = subprocess.Popen(self.netns.wrap([str(BIN / "ray"), "start", "--block", *args]),
                                stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                stdin=subprocess.DEVNULL)
        out.close()
        self.procs.append(proc)
        self.roots.add(proc.pid)
        return proc

    def start(self, timeout: float = 120.0) -> "LocalCluster":
        """Start the head, then the worker nodes one after another (two nodes registering on one
        address at the same moment can time out), and wait until every CPU is in the cluster.
        Raises `NamespaceUnavailable` (naming the failed commands) where no namespace can be made."""
        try:
            self.netns.start()
            self.procs.append(self.netns.holder)  # killed and reaped with the rest, by PID
            self.roots.add(self.netns.pid)
            common = ["--node-ip-address", NODE_IP, "--object-store-memory", str(self.object_store),
                      "--disable-usage-stats"]
            self.monitor.start()
            deadline = time.monotonic() + timeout
            self._start(["--head", "--port", "0", "--num-cpus", str(self.head_cpus),
                         "--include-dashboard=false", "--temp-dir", str(self.tmp / "ray"), *common],
                        "head.log")
            self.address = self._wait_log("head.log", r"--address='([0-9.]+:\d+)'", deadline)
            for i in range(self.workers):
                self._start(["--address", self.address, "--num-cpus", "1", *common], f"worker{i}.log")
                self._wait_log(f"worker{i}.log", r"(Ray runtime started)", deadline)
            self.wait_for_cpus(self.head_cpus + self.workers, deadline - time.monotonic())
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_log(self, log: str, pattern: str, deadline: float) -> str:
        """The first group of ``pattern`` once the node's ``ray start`` prints it."""
        proc = self.procs[-1]
        while True:
            text = (self.tmp / log).read_text(errors="replace")
            found = re.search(pattern, text)
            if found:
                return found.group(1)
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start ({log}) failed:\n{text[-3000:]}")
            time.sleep(0.2)

    def wait_for_cpus(self, cpus: int, timeout: float) -> None:
        """Block until the cluster reports ``cpus`` CPUs (every node joined), asking from a driver
        subprocess: the test process itself never imports Ray."""
        code = ("import ray,sys,time\n"
                f"ray.init(address={self.address!r}, _node_ip_address={NODE_IP!r}, log_to_driver=False,"
                " logging_level=40)\n"
                f"end=time.monotonic()+{max(5.0, timeout)}\n"
                f"while ray.cluster_resources().get('CPU',0)<{cpus} and time.monotonic()<end: time.sleep(0.3)\n"
                f"sys.exit(0 if ray.cluster_resources().get('CPU',0)>={cpus} else 3)\n")
        proc = self.run([sys.executable, "-c", code], timeout=max(10.0, timeout) + 20)
        if proc.returncode != 0:
            raise RuntimeError(f"the cluster did not reach {cpus} CPUs (exit {proc.returncode}): "
                               f"{proc.stdout[-1000:]}{proc.stderr[-2000:]}")

    def run(self, args: list[str], timeout: float = 300.0, **kwargs) -> subprocess.CompletedProcess:
        """Run a driver (a CLI call) to completion; its PID is watched by the socket monitor."""
        proc = self.spawn(args, **kwargs)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill_tree({proc.pid})
            out, err = proc.communicate()
            raise
        return subprocess.CompletedProcess(args, proc.returncode, out, err)

    def spawn(self, args: list[str], **kwargs) -> subprocess.Popen:
        """Start a driver without waiting (for tests that act while it runs), inside the cluster's
        namespace (the only place the cluster can be reached); the PID is the driver's own."""
        proc = subprocess.Popen(self.netns.wrap(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=kwargs.pop("env", self.env), stdin=subprocess.DEVNULL, **kwargs)
        self.roots.add(proc.pid)
        self.drivers.append(proc)
        return proc

    def pids(self) -> set[int]:
        """Every live process this cluster started: the ``ray start`` children, all below them,
        and anything whose command line names the cluster's temporary folder (Ray daemonizes
        some helpers)."""
        found = descendants(self.roots)
        tag = str(self.tmp)
        for pid in _ppids():
            if pid not in found and tag in cmdline(pid):
                found.add(pid)
        return descendants(found)

    def workers_running(self, title: str) -> list[int]:
        """PIDs of worker processes now running a task named ``title`` (Ray's process title)."""
        return [p for p in self.pids() if cmdline(p).startswith(f"ray::{title}")]

    def _kill_tree(self, roots: set[int]) -> None:
        for _ in range(3):
            pids = descendants(roots) - {os.getpid()}
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGKILL every process started here, by PID (the namespace's holder with them); reap our
        children; remove the folder. The monitor stops first: its ``ss`` runs in the namespace."""
        self.monitor.stop()
        try:
            pids = self.pids() - {os.getpid()}
            for _ in range(5):
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                for proc in self.procs + self.drivers:
                    try:
                        proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
                time.sleep(0.3)
                pids = self.pids() - {os.getpid()}
                if not pids:
                    break
        finally:
            self.netns.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "LocalCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host.startswith("::ffff:"):
        host = host[7:]
    if host in ("*", "0.0.0.0", "::"):
        return True  # an unbound peer (a listening or unconnected socket), not a contact
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class SocketMonitor:
    """Polls ``ss`` inside the cluster's namespace for the cluster's processes: `foreign` lists
    sockets to a non-loopback peer, `listening` every (process, local address) that listens or
    waits unconnected, `outside` every cluster process found outside the namespace."""

    def __init__(self, cluster: LocalCluster, period: float = 0.5) -> None:
        self.cluster, self.period = cluster, period
        self.foreign: list[str] = []
        self.seen: set[str] = set()  # peers contacted (host:port), loopback ones included
        self.listening: set[tuple[str, str]] = set()
        self.outside: list[str] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ss-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def poll(self) -> None:
        pids = self.cluster.pids()
        inside = self.cluster.netns.ident
        for pid in pids:
            # nsenter itself runs outside for a moment, before it enters and execs the driver
            where = _net_ns(pid)
            if where and where != inside and _comm(pid) != "nsenter":
                self.outside.append(f"pid {pid} in {where}, not {inside}: {cmdline(pid)[:200]}")
        out = subprocess.run(self.cluster.netns.wrap(["ss", "-tanpuH"]), capture_output=True,
                             text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"ss failed (exit {out.returncode}): {out.stderr.strip()}")
        for line in out.stdout.splitlines():
            owners = {int(p) for p in re.findall(r"pid=(\d+)", line)}
            if not owners & pids:
                continue
            fields = line.split()
            if len(fields) < 6:
                continue
            state, local, peer = fields[1], fields[4], fields[5]
            if state in ("LISTEN", "UNCONN"):
                name = re.search(r'\(\("([^"]*)"', line)
                self.listening.add((name.group(1) if name else "?", local))
                continue
            self.seen.add(peer)
            if not is_loopback(peer):
                self.foreign.append(line)
        self.polls += 1

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - recorded, so the test fails instead of hiding it
                self.foreign.append(f"monitor failed: {exc!r}")
