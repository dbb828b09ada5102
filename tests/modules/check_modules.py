#!/usr/bin/env python3
"""check_modules.py - the module graph of src/ has no cycles.

A module is a folder src/NAME/ together with the public header(s)
include/frost/*.h whose functions it defines. Module A depends on module B
when a file of A (or one of A's public headers) has `#include "B/..."` or
includes a public header of B. The umbrella frost/frost.h stands for every
header it includes. src/cli (the program) may use everything and is not a
module of the library.

Fails (exit 1, one line per problem) on:
  - a cycle between modules (printed as a path A -> B -> ... -> A);
  - a public header whose functions are defined in more than one module,
    or declared in one module's header and defined in another's folder
    (the header belongs to the module that defines its functions);
  - an include that names no known module.

Usage: check_modules.py SOURCE_ROOT    (meson test -C build modules)
"""
import os
import re
import sys

UMBRELLA = "frost.h"
SKIP_MODULES = {"cli"}  # the program: may depend on anything, nothing depends on it

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
DECL = re.compile(r'FROST_API\b[^;{]*?\b(frost_\w+)\s*\(', re.S)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def main(root):
    src = os.path.join(root, "src")
    pub = os.path.join(root, "include", "frost")
    modules = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    files = {m: [os.path.join(src, m, f) for f in sorted(os.listdir(os.path.join(src, m)))
                 if f.endswith((".c", ".h"))] for m in modules}
    texts = {}
    for m in modules:
        for f in files[m]:
            texts[f] = strip_comments(open(f, encoding="utf-8", errors="replace").read())
    problems = []

    # which module defines each public function
    defined = {}
    for m in modules:
        for f in files[m]:
            if not f.endswith(".c"):
                continue
            for name in re.findall(r"^[A-Za-z_][\w \t\*]*?\b(frost_\w+)\s*\([^;]*?\)\s*\{", texts[f], re.M | re.S):
                defined.setdefault(name, set()).add(m)

    # the module of each public header
    header_mod = {}
    header_incs = {}
    for h in sorted(os.listdir(pub)):
        if not h.endswith(".h"):
            continue
        text = strip_comments(open(os.path.join(pub, h), encoding="utf-8").read())
        header_incs[h] = INC.findall(text)
        if h == UMBRELLA:
            continue
        owners = {}
        for fn in DECL.findall(text):
            for m in defined.get(fn, ()):
                owners.setdefault(m, []).append(fn)
        stem = h[:-2]
        if len(owners) > 1:
            detail = "; ".join("%s in src/%s" % (", ".join(sorted(v)[:3]), m) for m, v in sorted(owners.items()))
            problems.append("include/frost/%s declares functions of several modules: %s" % (h, detail))
        if owners:
            header_mod[h] = max(owners, key=lambda m: len(owners[m]))
        elif stem in modules:
            header_mod[h] = stem
        elif h == "status.h":
            header_mod[h] = "core"
        else:
            problems.append("include/frost/%s: no module defines its functions, and no src/%s/ exists" % (h, stem))

    def targets(inc):
        """modules an include line refers to"""
        if inc.startswith("frost/"):
            h = inc[len("frost/"):]
            if h == UMBRELLA:
                out = set()
                for x in header_incs.get(UMBRELLA, []):
                    out |= targets(x)
                return out
            if h in header_mod:
                return {header_mod[h]}
            return None
        top = inc.split("/")[0]
        if top in modules:
            return {top}
        if inc == "frost_config.h" or "/" not in inc:
            return set()  # generated configuration, or a file beside the includer
        return None

    edges = {m: {} for m in modules}

    def add(frm, inc, where):
        t = targets(inc)
        if t is None:
            problems.append('%s: #include "%s" names no module' % (where, inc))
            return
        for m in t:
            if m != frm:
                edges[frm].setdefault(m, where)

    for m in modules:
        for f in files[m]:
            for inc in INC.findall(texts[f]):
                add(m, inc, os.path.relpath(f, root) + ' includes "' + inc + '"')
    for h, incs in header_incs.items():
        if h in header_mod:
            for inc in incs:
                add(header_mod[h], inc, "include/frost/" + h + ' includes "' + inc + '"')

    # cycles: depth-first search over the library's modules
    lib = [m for m in modules if m not in SKIP_MODULES]
    for m in SKIP_MODULES:
        for a in lib:
            if m in edges[a]:
                problems.append("%s: the library depends on src/%s" % (edges[a][m], m))
    colour = {m: 0 for m in lib}
    stack = []
    seen_cycles = set()

    def dfs(u):
        colour[u] = 1
        stack.append(u)
        for v in sorted(edges[u]):
            if v not in colour:
                continue
            if colour[v] == 1:
                cyc = stack[stack.index(v):] + [v]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    steps = ["%s -> %s (%s)" % (cyc[i], cyc[i + 1], edges[cyc[i]][cyc[i + 1]])
                             for i in range(len(cyc) - 1)]
                    problems.append("cycle " + " -> ".join(cyc) + ": " + "; ".join(steps))
            elif colour[v] == 0:
                dfs(v)
        stack.pop()
        colour[u] = 2

    for m in lib:
        if colour[m] == 0:
            dfs(m)

    for p in problems:
        print("not ok: " + p)
    if not problems:
        order = []
        done = set()

        def topo(u):
            if u in done:
                return
            done.add(u)
            for v in sorted(edges[u]):
                if v in colour:
                    topo(v)
            order.append(u)

        for m in lib:
            topo(m)
        print("ok: %d modules, no cycles; from the bottom: %s" % (len(lib), " ".join(order)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")))
