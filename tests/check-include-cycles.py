#!/usr/bin/python3
"""No import circles between the project's modules: a module is a .c file with its .h
(common/vigil-rule.c + vigil-rule.h), it imports each module whose header it #includes, and
no chain of imports may come back to where it started. Prints the first circle and fails.

    check-include-cycles.py [SOURCE_ROOT]
"""
import os
import re
import sys

DIRS = ['common', 'daemon', 'libvigil-client', 'vigilctl', 'gui']
# known circles, each until its fix lands (none now); a new circle fails
KNOWN = set()
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)


def modules(root):
    """module name -> the names of the modules it includes (other than itself)"""
    files = {}
    for d in DIRS:
        folder = os.path.join(root, d)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            stem, ext = os.path.splitext(name)
            if ext in ('.c', '.h'):
                files.setdefault(stem, []).append(os.path.join(folder, name))
    graph = {}
    for stem, paths in files.items():
        deps = set()
        for path in paths:
            with open(path, encoding='utf-8') as f:
                deps.update(INCLUDE.findall(f.read()))
        graph[stem] = sorted(d for d in deps if d in files and d != stem)
    return graph


def find_cycle(graph):
    """a list of modules that import each other in a circle, or None"""
    state = {}  # absent: not seen; 1: on the current path; 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for dep in graph[node]:
            if tuple(sorted((node, dep))) in KNOWN:
                continue
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                cycle = visit(dep)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(here)
    graph = modules(root)
    if 'vigil-rule' not in graph:
        print('no modules found under %s' % root)
        return 1
    cycle = find_cycle(graph)
    if cycle:
        print('import circle: ' + ' -> '.join(cycle))
        return 1
    print('%d modules, no import circle' % len(graph))
    return 0


if __name__ == '__main__':
    sys.exit(main())
