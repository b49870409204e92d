#!/usr/bin/env python3
"""Check that libtally's folders are layers and that no file depends on itself.

Usage: tests/check-layers.py BUILD_DIR

libtally (src/lib) is a stack of layers, one folder each, in the order of
LAYERS below (docs/architecture.md explains each).  A file may include the
headers of, and call the functions of, its own layer and the layers before
it -- never one after it.  Within the library and within the CLI, no two
files may depend on each other, however indirectly: each file's callers and
callees form a tree that can be read from the bottom up.

Calls are read from the compiled objects (nm: which file defines a symbol,
which files use it), so a call through a header declared anywhere is seen;
includes are read from the sources.  Prints TAP lines and closes with
"layers: N passed, N failed".
"""
import collections
import json
import os
import re
import subprocess
import sys

# Bottom first.  Adding a folder to src/lib means adding it here, in
# src/lib/meson.build and in docs/architecture.md.
LAYERS = ["core", "slurm", "scalars", "flags", "store", "run", "index", "manage", "launch", "sweep", "report", "web"]
RANK = {name: i for i, name in enumerate(LAYERS)}


def sources(build):
    """Map each object file of the build to its source path (relative to the source root)."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = json.load(f)
    out = {}
    for c in commands:
        src = os.path.normpath(os.path.join(c["directory"], c["file"]))
        obj = os.path.join(c["directory"], c["output"])
        out[obj] = src
    return out


def symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    text = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "TDBRCV":
            defined.add(fields[2])
        elif len(fields) == 2 and fields[0] == "U":
            undefined.add(fields[1])
    return defined, undefined


def call_graph(objects):
    """{file: {file it calls: [symbols]}} among `objects` ({object: source})."""
    defs, uses = {}, {}
    for obj, src in objects.items():
        defs[src], uses[src] = symbols(obj)
    owner = {sym: src for src, syms in defs.items() for sym in syms}
    graph = {src: collections.defaultdict(list) for src in objects.values()}
    for src, syms in uses.items():
        for sym in sorted(syms):
            callee = owner.get(sym)
            if callee and callee != src:
                graph[src][callee].append(sym)
    return graph


def cycles(graph):
    """The strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(path):
    """The layer of a file under src/lib, or None."""
    m = re.match(r"src/lib/([^/]+)/", path)
    return m.group(1) if m else None


class Report:
    def __init__(self):
        self.n = self.failed = 0

    def check(self, ok, what, details=()):
        self.n += 1
        print(("ok" if ok else "not ok"), self.n, "-", what)
        for d in details if not ok else ():
            print("#  ", d)
        if not ok:
            self.failed += 1


def main():
    build = sys.argv[1]
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    rel = lambda p: os.path.relpath(p, root)
    objects = {o: rel(s) for o, s in sources(build).items() if os.path.exists(o)}
    lib = {o: s for o, s in objects.items() if s.startswith("src/lib/")}
    cli = {o: s for o, s in objects.items() if s.startswith("src/cli/")}
    r = Report()

    folders = sorted(d for d in os.listdir(os.path.join(root, "src/lib")) if os.path.isdir(os.path.join(root, "src/lib", d)))
    r.check(sorted(folders) == sorted(LAYERS), "the folders of src/lib are the layers " + ", ".join(LAYERS),
            ["folders: " + ", ".join(folders)])
    loose = sorted(f for f in os.listdir(os.path.join(root, "src/lib")) if os.path.isfile(os.path.join(root, "src/lib", f)) and f != "meson.build")
    r.check(not loose, "every file of src/lib is in a layer's folder", loose)
    r.check(len(lib) >= len(LAYERS) and len(cli) > 10, "the build has the library's and the CLI's objects",
            [f"{len(lib)} library objects, {len(cli)} CLI objects in {build}"])

    bad_includes = []
    include = re.compile(r'^\s*#\s*include\s+"lib/([^/"]+)/')
    for layer in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, "src/lib", layer)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8") as text:
                    for no, line in enumerate(text, 1):
                        m = include.match(line)
                        if m and RANK.get(m.group(1), len(LAYERS)) > RANK[layer]:
                            bad_includes.append(f"{rel(path)}:{no} includes lib/{m.group(1)}/ (a later layer)")
    r.check(not bad_includes, "each layer includes only its own headers and earlier layers'", bad_includes)

    cli_includes = []
    for f in sorted(os.listdir(os.path.join(root, "src/cli"))):
        with open(os.path.join(root, "src/cli", f), encoding="utf-8") as text:
            for no, line in enumerate(text, 1):
                if re.match(r'^\s*#\s*include\s+"lib/', line):
                    cli_includes.append(f"src/cli/{f}:{no}: {line.strip()}")
    r.check(not cli_includes, "the CLI includes only the public tally.h (and src/util), no library internals",
            cli_includes)

    graph = call_graph(lib)
    upward = []
    for caller, callees in sorted(graph.items()):
        for callee, syms in sorted(callees.items()):
            a, b = layer_of(caller), layer_of(callee)
            if a in RANK and b in RANK and RANK[b] > RANK[a]:
                upward.append(f"{caller} ({a}) calls {callee} ({b}): {', '.join(syms[:4])}")
    r.check(not upward, "each layer calls only itself and earlier layers", upward)

    for name, objs in (("the library", lib), ("the CLI", cli)):
        g = call_graph(objs)
        details = []
        for component in cycles(g):
            details.append("cycle: " + " <-> ".join(component))
            for a in component:
                for b in component:
                    if b in g[a]:
                        details.append(f"  {a} -> {b}: {', '.join(g[a][b][:4])}")
        r.check(not details, f"no files of {name} depend on each other in a cycle", details)

    print(f"layers: {r.n - r.failed} passed, {r.failed} failed")
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
