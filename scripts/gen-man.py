#!/usr/bin/env python3
"""Write tally's man pages at build time from the texts --help prints.

usage: gen-man.py TALLY DOCS_DIR PAGE...

The command pages come from the built binary itself: tally(1) from
`tally --help`, tally-CMD(1) from `tally CMD --help` with the summary of
`tally __commands`; the topic pages tally-query(7) and tally-run-format(5)
from docs/query.md and docs/run-format.md, the files `tally help query` and
`tally help run-format` print.  So a man page never says what --help does
not.  PAGE is the path of each page to write (.../tally-run.1): the build
lists them, and a command that exists without a page, or a page without a
command, stops the build.
"""
import datetime
import os
import re
import subprocess
import sys

TOPICS = {  # page name -> (section, file in DOCS_DIR, NAME line)
    "tally-query": ("7", "query.md", "the query language of tally runs --where and --sort"),
    "tally-run-format": ("5", "run-format.md", "the files of a tally run directory and runs directory"),
    "tally-view-api": ("7", "view.md", "the pages of tally view and its JSON API"),
}

SECTION_HEADINGS = {"Options:": "OPTIONS", "Commands:": "COMMANDS", "Environment:": "ENVIRONMENT"}


# ---- roff text ---------------------------------------------------------

def escape(text):
    """Plain text as roff: backslashes, dashes, and anything not ASCII as \\[uXXXX]."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-":
            out.append("\\-")
        elif ord(ch) > 126:
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def inline(text):
    """Escape, and set `code` in bold (backticks in pairs only)."""
    if text.count("`") % 2:
        return escape(text)
    parts = text.split("`")
    return "".join(escape(p) if i % 2 == 0 else "\\fB" + escape(p) + "\\fR" for i, p in enumerate(parts))


def source_line(text):
    """One line of roff input: a leading . or ' would be read as a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def header(name, section, date, version):
    # .nh: no hyphenation, which would split option names and values
    return ['.TH %s %s "%s" "tally %s" "tally manual"' % (escape(name.upper()), section, date, version), ".nh"]


# ---- --help texts ------------------------------------------------------

def blocks(text):
    """The text's blank-line separated blocks, each a list of lines."""
    out, cur = [], []
    for line in text.rstrip("\n").split("\n"):
        line = line.rstrip()
        if line:
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def indent(line):
    return len(line) - len(line.lstrip(" "))


def definition_entries(lines, option_list):
    """Split an indented list into (term, description lines): a term starts a
    line (an option or, in a command list, a word), its description follows
    after two spaces and on lines indented further."""
    entries = []
    for line in lines:
        stripped = line.strip()
        starts = indent(line) <= 6 and (stripped.startswith("-") if option_list else True)
        # a list of options too long for one line goes on over the next
        if starts and entries and not entries[-1][1] and entries[-1][0].endswith(","):
            m = re.match(r"(\S.*?)(?: {2,}(.*))?$", stripped)
            entries[-1] = (entries[-1][0] + " " + m.group(1), [m.group(2)] if m.group(2) else [])
        elif starts or not entries:
            m = re.match(r"(\S.*?)(?: {2,}(.*))?$", stripped)
            entries.append((m.group(1), [m.group(2)] if m.group(2) else []))
        else:
            entries[-1][1].append(stripped)
    return entries


def render_definitions(lines, option_list, command_list):
    out = []
    for term, desc in definition_entries(lines, option_list):
        out.append(".TP")
        if command_list:
            out.append(".BR tally\\-%s (1)" % escape(term))
        else:
            out.append("\\fB" + escape(term) + "\\fR")
        out.extend(source_line(inline(d)) for d in desc)
    return out


def render_preformatted(lines):
    base = min(indent(l) for l in lines)
    out = [".PP", ".RS 2", ".nf"]
    out.extend(source_line(escape(l[base:])) for l in lines)
    out += [".fi", ".RE"]
    return out


def is_option_list(lines):
    return lines[0].lstrip().startswith("-")


def render_help(text):
    """SYNOPSIS and the sections that follow it, from a --help text."""
    out = []
    section = None  # the .SH we are in
    for block in blocks(text):
        i = 0
        if block[0].startswith("usage: "):
            out += [".SH SYNOPSIS", ".nf"]
            while i < len(block) and (block[i].startswith("usage: ") or indent(block[i]) >= 6):
                out.append(source_line(escape(block[i][7:] if block[i].startswith("usage: ") else block[i].strip())))
                i += 1
            out.append(".fi")
            section = "SYNOPSIS"
        heading_context = None
        while i < len(block):
            line = block[i]
            if indent(line) == 0:
                nxt = block[i + 1] if i + 1 < len(block) else ""
                # a short line ending with ':' over an indented list is a heading
                if line.endswith(":") and i == 0 and indent(nxt) > 0 and len(line) <= 60:
                    if line in SECTION_HEADINGS:
                        section = SECTION_HEADINGS[line]
                        out.append(".SH " + section)
                    else:
                        if section in ("SYNOPSIS", None):
                            section = "DESCRIPTION"
                            out.append(".SH DESCRIPTION")
                        out.append('.SS "%s"' % escape(line[:-1]))
                    heading_context = line
                    i += 1
                    continue
                para = []
                while i < len(block) and indent(block[i]) == 0:
                    para.append(block[i])
                    i += 1
                if para[0].startswith("Exit status:"):
                    section = "EXIT STATUS"
                    out.append('.SH "EXIT STATUS"')
                    para[0] = para[0][len("Exit status:"):].strip()
                elif section in ("SYNOPSIS", None):
                    section = "DESCRIPTION"
                    out.append(".SH DESCRIPTION")
                elif section in SECTION_HEADINGS.values():
                    section = "NOTES"
                    out.append(".SH NOTES")
                out.append(".PP")
                out.extend(source_line(inline(p)) for p in para if p)
            else:
                group = []
                while i < len(block) and indent(block[i]) > 0:
                    group.append(block[i])
                    i += 1
                if heading_context in ("Commands:", "Environment:") or is_option_list(group):
                    out += render_definitions(group, heading_context not in ("Commands:", "Environment:"),
                                              heading_context == "Commands:")
                else:
                    out += render_preformatted(group)
    return out


def run(tally, *args):
    env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
    for name in ("TALLY_RUNS_DIR", "LANG", "LC_ALL"):
        env.pop(name, None)
    return subprocess.run([tally, *args], check=True, capture_output=True, text=True, env=env).stdout


def see_also(own):
    refs = [("tally", "1"), ("tally-query", "7"), ("tally-run-format", "5"), ("tally-view-api", "7")]
    items = [".BR %s (%s)" % (escape(n), s) for n, s in refs if n != own]
    return [".SH \"SEE ALSO\""] + [i + ("," if k < len(items) - 1 else "") for k, i in enumerate(items)]


def command_page(tally, command, summary, date, version):
    name = "tally-" + command
    lines = header(name, "1", date, version)
    lines += [".SH NAME", "%s \\- %s" % (escape(name), escape(summary))]
    lines += render_help(run(tally, command, "--help"))
    return lines + see_also(name)


def main_page(tally, date, version):
    lines = header("tally", "1", date, version)
    lines += [".SH NAME", "tally \\- track, compare and tune machine\\-learning training runs"]
    lines += render_help(run(tally, "--help"))
    return lines + see_also("tally")


# ---- markdown topics (docs/*.md) ---------------------------------------

def md_inline(text):
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # links: their text
    text = text.replace("**", "")
    return inline(text)


def render_markdown(md):
    out = []
    lines = md.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line or line.startswith("# "):
            i += 1
        elif line.startswith("## "):
            title = line[3:]  # file names (`.tally/run.json`) keep their case
            out.append('.SH "%s"' % escape(title.replace("`", "") if "`" in title else title.upper()))
            i += 1
        elif line.startswith("### "):
            out.append('.SS "%s"' % escape(line[4:].replace("`", "")))
            i += 1
        elif line.startswith("```"):
            i += 1
            code = []
            while i < len(lines) and not lines[i].startswith("```"):
                code.append(lines[i].rstrip())
                i += 1
            i += 1
            out += [".PP", ".RS 2", ".nf"] + [source_line(escape(c)) for c in code] + [".fi", ".RE"]
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            for cells in rows[1:]:  # the first row is the table's header
                out += [".TP", source_line(md_inline(cells[0])), source_line(md_inline(" ".join(cells[1:])))]
        elif re.match(r"[-*] ", line):
            while i < len(lines) and re.match(r"[-*] ", lines[i]):
                out += [".IP \\(bu 2", source_line(md_inline(lines[i][2:].strip()))]
                i += 1
                while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                    out.append(source_line(md_inline(lines[i].strip())))
                    i += 1
        else:
            out.append(".PP")
            while i < len(lines) and lines[i].strip() and not re.match(r"(#|\||```|[-*] )", lines[i]):
                out.append(source_line(md_inline(lines[i].strip())))
                i += 1
    return out


def topic_page(page, docs_dir, date, version):
    section, filename, summary = TOPICS[page]
    with open(os.path.join(docs_dir, filename), encoding="utf-8") as f:
        md = f.read()
    lines = header(page, section, date, version)
    lines += [".SH NAME", "%s \\- %s" % (escape(page), escape(summary))]
    body = render_markdown(md)
    if body and not body[0].startswith(".SH"):  # the text before the first heading
        body.insert(0, ".SH DESCRIPTION")
    return lines + body + see_also(page)


# ---- main --------------------------------------------------------------

def build_date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else \
        datetime.datetime.now(datetime.timezone.utc)
    return when.strftime("%Y-%m-%d")


def main():
    tally, docs_dir, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
    version = run(tally, "--version").split()[1]
    date = build_date()
    commands = {}
    for line in run(tally, "__commands").splitlines():
        name, summary = line.split("\t", 1)
        commands[name] = summary
    wanted = {os.path.basename(p).rsplit(".", 1)[0] for p in pages}
    have = {"tally"} | {"tally-" + c for c in commands} | set(TOPICS)
    if wanted != have:
        sys.exit("gen-man.py: pages asked for and commands differ; add or remove in docs/meson.build: %s"
                 % ", ".join(sorted(wanted ^ have)))
    for page in pages:
        name = os.path.basename(page).rsplit(".", 1)[0]
        if name == "tally":
            lines = main_page(tally, date, version)
        elif name in TOPICS:
            lines = topic_page(name, docs_dir, date, version)
        else:
            lines = command_page(tally, name[len("tally-"):], commands[name[len("tally-"):]], date, version)
        with open(page, "w", encoding="ascii") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
