#!/usr/bin/env python3
"""Write the linker version script of libtally.so: every function that
include/tally.h declares is exported, nothing else (the library's internals
and src/util stay hidden, so they can change without breaking anyone).

usage: gen-exports.py tally.h OUTPUT
"""
import re
import sys


def public_functions(header_text):
    text = re.sub(r"/\*.*?\*/", " ", header_text, flags=re.S)  # comments
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)  # preprocessor lines
    names = set()
    for statement in text.split(";"):
        statement = " ".join(statement.split())
        if statement.startswith("typedef"):
            continue
        # the first "name(" of a declaration names the function; a pointer
        # return type ("const char *tally_x(") is allowed
        m = re.search(r"\b(tally_[a-z0-9_]+)\s*\(", statement)
        if m and "(*" not in statement[: m.start() + 2]:
            names.add(m.group(1))
    return sorted(names)


def main():
    header, output = sys.argv[1], sys.argv[2]
    with open(header, encoding="utf-8") as f:
        names = public_functions(f.read())
    if not names:
        sys.exit("gen-exports.py: no functions found in " + header)
    with open(output, "w", encoding="utf-8") as f:
        f.write("/* Generated from include/tally.h by scripts/gen-exports.py. */\n")
        f.write("TALLY_0 {\n  global:\n")
        for name in names:
            f.write("    %s;\n" % name)
        f.write("  local:\n    *;\n};\n")


if __name__ == "__main__":
    main()
