"""The import-contract checker behind ``tests/test_architecture.py`` (rules in ``docs/ARCHITECTURE.md`` §4).

It reads every module under the five top-level rooms with :mod:`ast` (nothing is imported), builds
the graph of our own imports and checks each rule against it. Functions take a :class:`Graph`, so
the tests can feed a synthetic one to show each rule failing on a deliberate breach.

Edges: ``import a.b`` and ``from a.b import c`` are an edge to ``a.b.c`` when that is one of our
modules, else to ``a.b``; relative imports are resolved; imports inside functions count too (a
lazy import is still a dependency). Importing a module does not add an edge to its parent
packages' ``__init__`` (the rules are about what code depends on, not what Python happens to load).
"""

from __future__ import annotations

import ast
import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_ROOMS = ("service", "firmware", "kiosk_ui", "provisioning", "province_gateway")

# I/O modules the pure domain must not import (the standard library's and third-party ones).
IO_MODULES = ("os", "pathlib", "io", "sqlite3", "socket", "subprocess", "shutil", "tempfile", "http",
              "urllib.request", "paho", "psycopg", "serial", "requests", "onnxruntime", "cv2", "pkcs11", "flask")
SQL_EXECUTE = frozenset({"execute", "executemany", "executescript"})

# What each rule allows (module-name prefixes; a prefix matches itself and its sub-modules).
DOMAIN = "service.domain"
# service.durable: the one durable-write helper (stdlib only; tests/sync/test_schema_cli.py checks that).
GATEWAY_MAY_IMPORT = ("service.sync.protocol", "service.sync.mqttbase", "service.domain", "service.durable")
# What the gateway's allowed imports may pull in in turn (the pure wire modules beside protocol).
GATEWAY_CLOSURE = GATEWAY_MAY_IMPORT + ("service.sync.wire", "service.sync.reuse_msgs")
# service.durable (stdlib file writes) and service.hooks (neutral named hook points) are no stages.
STORE_MAY_IMPORT = ("service.store", "service.domain", "service.configbase", "service.paths", "service.errors",
                    "service.durable", "service.hooks")
# province_gateway.web.queries: the province view's reads of the gateway tables and its look-up log.
SQL_MODULES = ("service.store", "province_gateway.db", "province_gateway.local.postgres",
               "province_gateway.web.queries")
# The kiosk reaches the store and the devices only through the use cases: the chain search stops there.
KIOSK_DOOR = ("service.usecases",)
# What kiosk modules may import of the service directly: the door and the shared config/error/path modules.
KIOSK_MAY_IMPORT = ("service.usecases", "service.errors", "service.paths", "service.config", "service.configbase")
KIOSK_FORBIDDEN = ("sqlite3", "service.store", "firmware", "provisioning")
# Configuration models (pydantic sections composed by ``service.config``) may be reached from the
# kiosk even when they sit in a forbidden room: they are values, not drivers. They are still followed,
# so a config module that imported its room's driver or SQLite would be a breach.
KIOSK_CONFIG_LEAVES = ("firmware.config", "service.store.config")


def under(name: str, prefixes: Iterable[str]) -> bool:
    """True if module ``name`` is one of ``prefixes`` or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def room_of(name: str) -> str:
    """The room of a module: ``service.<package>`` for the service, else the top-level folder."""
    parts = name.split(".")
    if parts[0] == "service" and len(parts) > 1:
        return "service." + parts[1]
    return parts[0]


@dataclass
class Module:
    """One parsed module: the modules it imports (ours and others) and whether it runs SQL."""

    name: str
    is_package: bool
    imports: list[tuple[str, int]] = field(default_factory=list)  # (imported name, line)
    sql_lines: list[int] = field(default_factory=list)  # ``import sqlite3`` or ``.execute(`` lines
    writes_outbox: bool = False  # its source inserts outbox rows (the end of a kiosk click)
    open_lines: list[int] = field(default_factory=list)  # calls of the builtin ``open(``


@dataclass
class Graph:
    """Modules by name, and our-own import edges resolved against the known module names."""

    modules: dict[str, Module]

    def ours(self, target: str) -> bool:
        """True if ``target`` names code of ours (one of the five rooms)."""
        return target.split(".")[0] in TOP_ROOMS

    def edges(self, name: str) -> list[tuple[str, int]]:
        """The (module, line) pairs module ``name`` imports, ours and others."""
        return self.modules[name].imports


def _resolve(module: str | None, level: int, here: str, is_package: bool) -> str:
    """Absolute name of ``from <level dots><module> import ...`` written in module ``here``."""
    if level == 0:
        return module or ""
    base = here.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def parse_module(name: str, source: str, *, is_package: bool = False, known: Iterable[str] = ()) -> Module:
    """Parse ``source`` as module ``name``; ``known`` (module names) resolves ``from a import b`` to ``a.b``."""
    known_set = set(known)
    mod = Module(name, is_package, writes_outbox="INSERT INTO outbox" in source)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                mod.imports.append((alias.name, node.lineno))
                if alias.name == "sqlite3":
                    mod.sql_lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node.module, node.level, name, is_package)
            if target == "sqlite3":
                mod.sql_lines.append(node.lineno)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                mod.imports.append((sub if sub in known_set else target, node.lineno))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in SQL_EXECUTE):
            mod.sql_lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            mod.open_lines.append(node.lineno)
    return mod


def graph_from_sources(sources: Mapping[str, str], packages: Iterable[str] = ()) -> Graph:
    """A graph from ``{module name: source}`` (``packages`` names the ``__init__`` modules)."""
    pkgs = set(packages)
    return Graph({n: parse_module(n, s, is_package=n in pkgs, known=sources) for n, s in sources.items()})


def load_graph(root: Path = ROOT) -> Graph:
    """Parse every module under the five rooms of the repository at ``root``."""
    sources: dict[str, str] = {}
    packages: list[str] = []
    for top in TOP_ROOMS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
                packages.append(".".join(parts))
            sources[".".join(parts)] = path.read_text(encoding="utf-8")
    return graph_from_sources(sources, packages)


# -- rules: each returns breaches as "rule: module -> target" lines -------------------------------
def domain_pure(g: Graph) -> list[str]:
    """``service.domain`` imports nothing of ours outside itself and no I/O module, and opens no file."""
    out = []
    for name, mod in g.modules.items():
        if not under(name, (DOMAIN,)):
            continue
        if mod.open_lines:
            out.append(f"domain_pure: {name} -> open()")
        for target, _line in mod.imports:
            if (g.ours(target) and not under(target, (DOMAIN,))) or under(target, IO_MODULES):
                out.append(f"domain_pure: {name} -> {target}")
    return out


def firmware_alone(g: Graph) -> list[str]:
    """``firmware`` imports nothing of ours outside ``firmware``."""
    return [f"firmware_alone: {name} -> {target}"
            for name, mod in g.modules.items() if under(name, ("firmware",))
            for target, _line in mod.imports if g.ours(target) and not under(target, ("firmware",))]


def gateway_imports(g: Graph) -> list[str]:
    """``province_gateway`` imports of the service only the sync protocol, the MQTT base and the domain.

    The service modules those pull in must stay within :data:`GATEWAY_CLOSURE` too, and
    ``province_gateway.local`` (the local province) imports of ours only the gateway's own modules.
    """
    out = []
    for name, mod in g.modules.items():
        if not under(name, ("province_gateway",)):
            continue
        for target, _line in mod.imports:
            if g.ours(target) and not under(target, ("province_gateway",)) and (
                    not under(target, GATEWAY_MAY_IMPORT) or under(name, ("province_gateway.local",))):
                out.append(f"gateway_imports: {name} -> {target}")  # local/: only the gateway's own modules
    seen: set[str] = set()
    todo = [m for m in g.modules if under(m, GATEWAY_MAY_IMPORT)]
    while todo:
        name = todo.pop()
        if name in seen or name not in g.modules:
            continue
        seen.add(name)
        for target, _line in g.modules[name].imports:
            if not g.ours(target):
                continue
            if not under(target, GATEWAY_CLOSURE):
                out.append(f"gateway_imports: {name} -> {target}")
            else:
                todo.append(target)
    return out


def store_no_stage(g: Graph) -> list[str]:
    """``service.store`` imports of ours only the domain, configbase, paths, errors, the durable-write helper
    and the hook points: no stage, no UI."""
    return [f"store_no_stage: {name} -> {target}"
            for name, mod in g.modules.items() if under(name, ("service.store",))
            for target, _line in mod.imports if g.ours(target) and not under(target, STORE_MAY_IMPORT)]


def sql_only_in_store(g: Graph) -> list[str]:
    """``import sqlite3`` and ``.execute(`` appear only in the store and the gateway's database modules."""
    return [f"sql_only_in_store: {name} -> sql"
            for name, mod in g.modules.items() if mod.sql_lines and not under(name, SQL_MODULES)]


def kiosk_chains(g: Graph) -> list[str]:
    """No chain of imports from a ``kiosk_ui`` module reaches SQLite, the store, firmware or provisioning.

    Of the service, kiosk modules import directly only :data:`KIOSK_MAY_IMPORT`.

    The search does not go past :data:`KIOSK_DOOR` (the use cases are the door to the store and the
    devices); the configuration models in :data:`KIOSK_CONFIG_LEAVES` may be reached (and are followed).
    A breach is the shortest chain from the last kiosk module on it to the first forbidden module, so
    one wrong import reads as one breach, not one per page that imports it.
    """
    out: set[str] = set()
    for start in sorted(m for m in g.modules if under(m, ("kiosk_ui",))):
        out.update(f"kiosk_chains: {start} -> {t}" for t, _line in g.modules[start].imports
                   if under(t, ("service",)) and not under(t, KIOSK_MAY_IMPORT))
        parent: dict[str, str | None] = {start: None}
        queue = collections.deque([start])
        while queue:
            name = queue.popleft()
            for target, _line in g.modules[name].imports:
                if target in parent or under(target, KIOSK_DOOR):
                    continue
                parent[target] = name
                if under(target, KIOSK_FORBIDDEN) and not under(target, KIOSK_CONFIG_LEAVES):
                    chain = [target]
                    while (up := parent[chain[-1]]) is not None:
                        chain.append(up)
                    chain.reverse()
                    last_kiosk = max(i for i, m in enumerate(chain) if under(m, ("kiosk_ui",)))
                    out.add("kiosk_chains: " + " -> ".join(chain[last_kiosk:]))
                elif target in g.modules:
                    queue.append(target)
    return sorted(out)


RULES = (domain_pure, firmware_alone, gateway_imports, store_no_stage, sql_only_in_store, kiosk_chains)


def breaches(g: Graph) -> set[str]:
    """Every rule's breaches in ``g``."""
    return {b for rule in RULES for b in rule(g)}


# -- the room map ---------------------------------------------------------------------------------
def _ours_edges(g: Graph) -> dict[str, set[str]]:
    return {n: {t for t, _ in m.imports if t in g.modules and t != n} for n, m in g.modules.items()}


def _sccs(adj: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in adj:
        if root in index:
            continue
        work = [(root, iter(sorted(adj[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(adj[nxt]))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(sorted(comp))
    return out


def longest_chain(g: Graph, starts: Iterable[str] | None = None, goal: str | None = None) -> list[str]:
    """The longest import chain (from one of ``starts`` to ``goal`` when given), a cycle counting as one step."""
    adj = _ours_edges(g)
    comps = _sccs(adj)
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    goal_comp = comp_of.get(goal) if goal is not None else None
    best: dict[int, list[int] | None] = {}
    for i, comp in enumerate(comps):  # Tarjan yields components in reverse topological order
        succ = {comp_of[t] for m in comp for t in adj[m]} - {i}
        tails = [t for t in (best[s] for s in succ) if t is not None]
        if goal is None:
            best[i] = [i, *max(tails, key=len, default=[])]
        else:
            best[i] = [i] if i == goal_comp else ([i, *max(tails, key=len)] if tails else None)
    start_comps = {comp_of[s] for s in starts if s in comp_of} if starts is not None else set(best)
    paths = [p for i, p in best.items() if i in start_comps and p is not None]
    path = max(paths, key=len, default=[])
    return ["{" + ", ".join(comps[i]) + "}" if len(comps[i]) > 1 else comps[i][0] for i in path]


def shortest_chain(g: Graph, starts: Iterable[str], goal: str) -> list[str]:
    """The shortest import chain from any of ``starts`` to ``goal`` (empty if none)."""
    adj = _ours_edges(g)
    parent: dict[str, str | None] = {s: None for s in starts}
    queue = collections.deque(parent)
    while queue:
        name = queue.popleft()
        if name == goal:
            chain = [name]
            while (up := parent[chain[-1]]) is not None:
                chain.append(up)
            return list(reversed(chain))
        for t in sorted(adj[name]):
            if t not in parent:
                parent[t] = name
                queue.append(t)
    return []


def room_map(g: Graph) -> str:
    """Modules per room, the arrows between rooms, cycles, the longest chain and the kiosk → outbox chain."""
    counts = collections.Counter(room_of(n) for n in g.modules)
    arrows: collections.Counter[tuple[str, str]] = collections.Counter()
    for name, mod in g.modules.items():
        for target, _ in mod.imports:
            if g.ours(target) and room_of(target) != room_of(name):
                arrows[(room_of(name), room_of(target))] += 1
    cycles = [c for c in _sccs(_ours_edges(g)) if len(c) > 1]
    chain = longest_chain(g)
    outbox = next((n for n in sorted(g.modules) if g.modules[n].writes_outbox), "")
    pages = sorted(n for n in g.modules if under(n, ("kiosk_ui.blueprints",)))
    kiosk = shortest_chain(g, pages, outbox)
    kiosk_long = longest_chain(g, pages, outbox)
    lines = [f"modules: {len(g.modules)} in {len(counts)} rooms; arrows between rooms: {len(arrows)}; "
             f"import cycles: {len(cycles)} (largest {max((len(c) for c in cycles), default=0)} modules)",
             "modules per room: " + ", ".join(f"{r} {n}" for r, n in sorted(counts.items())),
             f"longest import chain ({len(chain)} steps): " + " -> ".join(chain),
             f"kiosk page -> outbox row, shortest ({len(kiosk)} modules): " + " -> ".join(kiosk),
             f"kiosk page -> outbox row, longest ({len(kiosk_long)} steps): " + " -> ".join(kiosk_long),
             "breaches: " + str(len(breaches(g))),
             "arrows:"]
    lines += [f"  {a} -> {b} ({n})" for (a, b), n in sorted(arrows.items())]
    lines += ["cycles:"] + [f"  {len(c)}: " + ", ".join(c) for c in cycles]
    return "\n".join(lines)
