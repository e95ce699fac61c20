#!/usr/bin/env python3
"""File-level module dependency cycles in a Rust crate's src/ (super::/crate::/child paths).

Usage: check-module-cycles.py SRC_DIR [--tests] [-v]
Exits 1 when a cycle is found; scripts/test.sh runs it over every crate.
A file's own `mod x;` declarations and its `pub use` re-exports are not counted as
dependencies; paths through a re-export resolve to the module that defines the item.
Unit-test modules (`#[cfg(test)] mod tests`) are ignored unless --tests.
"""
import os, re, sys
from collections import defaultdict

src = sys.argv[1].rstrip('/')
with_tests = '--tests' in sys.argv

files = {}  # module path tuple -> file
for root, _, names in os.walk(src):
    for n in names:
        if not n.endswith('.rs'):
            continue
        p = os.path.join(root, n)
        rel = os.path.relpath(p, src)[:-3].split(os.sep)
        if rel == ['lib'] or rel == ['main']:
            mod = ()
        elif rel[-1] == 'mod':
            mod = tuple(rel[:-1])
        else:
            mod = tuple(rel)
        files[mod] = p

def strip_comments(t):
    t = re.sub(r'/\*.*?\*/', '', t, flags=re.S)
    out = []
    for line in t.split('\n'):
        # drop // comments (not inside a string: good enough for this crate)
        i = line.find('//')
        while i != -1:
            if line[:i].count('"') % 2 == 0:
                line = line[:i]
                break
            i = line.find('//', i + 2)
        out.append(line)
    return '\n'.join(out)

def split_tests(t):
    m = re.search(r'#\[cfg\(test\)\]\s*mod\s+tests\b', t)
    return (t, '') if not m else (t[:m.start()], t[m.start():])

def expand_use(tree):
    """'a::{b, c::{d, e}}' -> ['a::b', 'a::c::d', 'a::c::e']"""
    tree = re.sub(r'\s+', '', tree)
    def parse(s):
        # returns list of paths
        i = s.find('{')
        if i == -1:
            return [s]
        prefix = s[:i]
        inner = s[i + 1:s.rfind('}')]
        parts, depth, cur = [], 0, ''
        for ch in inner:
            if ch == ',' and depth == 0:
                parts.append(cur); cur = ''
                continue
            depth += ch == '{'
            depth -= ch == '}'
            cur += ch
        if cur:
            parts.append(cur)
        res = []
        for p in parts:
            for q in parse(p):
                res.append(prefix + q if q != 'self' else prefix.rstrip(':'))
        return res
    return [re.sub(r'\sas\s.*$', '', p) for p in parse(tree)]

def absolute(mod, path, children, in_tests):
    segs = [s for s in re.sub(r'as\w+$', '', path).split('::') if s]
    base = list(mod) + (['tests'] if in_tests else [])
    if not segs:
        return None
    if segs[0] == 'crate':
        return segs[1:]
    if segs[0] == 'self':
        return base + segs[1:]
    if segs[0] == 'super':
        cur = list(base)
        while segs and segs[0] == 'super':
            cur = cur[:-1]
            segs = segs[1:]
        return cur + segs
    if segs[0] in children:
        return list(mod) + segs
    return None  # external crate or local item

reexports = {}  # mod -> {name: abs path list}
parsed = {}
for mod, p in files.items():
    text = strip_comments(open(p).read())
    main, tests = split_tests(text)
    children = set(re.findall(r'^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', main, re.M))
    parsed[mod] = (main, tests, children)
    rx = {}
    for m in re.finditer(r'^\s*pub(?:\([^)]*\))?\s+use\s+([^;]+);', main, re.M):
        for path in expand_use(m.group(1)):
            a = absolute(mod, path, children, False)
            if a:
                name = path.split('::')[-1]
                alias = re.search(r'as(\w+)$', re.sub(r'\s+', '', m.group(1)))
                rx[name] = a
    reexports[mod] = rx

def resolve(a, depth=0):
    """Absolute path -> the module file the item lives in."""
    a = [s for s in a if s not in ('*',)]
    best = ()
    for k in range(len(a), -1, -1):
        if tuple(a[:k]) in files:
            best = tuple(a[:k]); rest = a[k:]
            break
    if rest and depth < 5 and rest[0] in reexports.get(best, {}):
        return resolve(reexports[best][rest[0]] + rest[1:], depth + 1)
    return best

deps = defaultdict(set)
why = defaultdict(list)
for mod, (main, tests, children) in parsed.items():
    parts = [(main, False)] + ([(tests, True)] if with_tests else [])
    for text, in_tests in parts:
        paths = []
        for m in re.finditer(r'^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);', text, re.M):
            if m.group(1):
                continue  # re-export: not a dependency of this file
            paths += expand_use(m.group(2))
        body = re.sub(r'^\s*(pub(?:\([^)]*\))?\s+)?use\s+[^;]+;', '', text, flags=re.M)
        body = re.sub(r'^\s*(pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*;', '', body, flags=re.M)
        paths += re.findall(r'\b((?:crate|super|self)(?:::\w+)+)', body)
        for c in children:
            paths += re.findall(r'(?<![:\w])(%s(?:::\w+)+)' % c, body)
        for path in paths:
            a = absolute(mod, path, children, in_tests)
            if a is None:
                continue
            tgt = resolve(a)
            if tgt != mod and tgt in files:
                deps[mod].add(tgt)
                why[(mod, tgt)].append(path)

def name(m):
    return '::'.join(('crate',) + m)

# Tarjan SCC
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in deps[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        sccs.append(comp)
sys.setrecursionlimit(10000)
for v in sorted(files):
    if v not in index:
        strong(v)

if '-v' in sys.argv:
    for m in sorted(files):
        print(f'{name(m):40} -> ' + ', '.join(sorted(name(d) for d in deps[m])))
    print()
found = False
for comp in sccs:
    if len(comp) > 1:
        found = True
        print('cycle:', ' , '.join(sorted(name(c) for c in comp)))
        for a in sorted(comp):
            for b in sorted(deps[a]):
                if b in comp:
                    print(f'   {name(a)} -> {name(b)}  via {sorted(set(why[(a, b)]))}')
if not found:
    print(f'{src}: no file-level cycles')
sys.exit(1 if found else 0)
