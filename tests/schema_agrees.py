#!/usr/bin/python3
"""tests/schema_agrees.py - flows/flow.schema.json agrees with `blueflow check`.

Usage: schema_agrees.py SRCDIR

Checks that the schema is a valid draft 2020-12 schema, that every shipped
flow (flows/*.json) is valid under it, and that it rejects every file of
tests/invalid/ whose NAME.expected (the C validator's exact errors) holds a
schema, unknown-type or node-schema error, unless the file is listed in
tests/invalid/SCHEMA_BLIND ("NAME.json # why the schema cannot see it").
A listed file, and a file with only dangling-reference errors, must be
ACCEPTED by the schema, and the latter must be listed: the list says
exactly what the schema cannot express. Prints "ok NAME" or
"FAIL NAME: why" per check; exits 1 on any failure.
"""
import glob
import json
import os
import re
import sys

import jsonschema

SHAPE = {"schema", "unknown-type", "node-schema"}
CLASSES = SHAPE | {"dangling-reference", "template"}
WARNINGS = {"unreachable", "condition"}
# FILE: PATH: CLASS: message, or FILE: PATH: warning: CLASS: message
LINE = re.compile(r"^(?P<file>[^:]*): (?P<path>/.*?): (?P<warn>warning: )?"
                  r"(?P<cls>[a-z-]+): (?P<msg>.*)$")

failures = 0


def ok(name):
    print("ok " + name)


def fail(name, why):
    global failures
    failures += 1
    print("FAIL %s: %s" % (name, why))


class Unreadable(Exception):
    pass


def no_duplicates(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise Unreadable("duplicate key %r" % key)
        seen.add(key)
    return dict(pairs)


def no_constant(name):
    raise Unreadable("%s is not JSON" % name)


def load(path):
    """The document, or raises Unreadable as blueflow check would reject
    it before looking at its content."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Unreadable("not UTF-8: %s" % e)
    try:
        return json.loads(text, object_pairs_hook=no_duplicates,
                          parse_constant=no_constant)
    except ValueError as e:
        raise Unreadable("not JSON: %s" % e)
    except RecursionError:
        raise Unreadable("nested too deeply")


def schema_errors(validator, doc):
    """The schema's complaints about doc, as short strings."""
    out = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
        where = "/" + "/".join(str(p) for p in e.absolute_path)
        out.append("%s: %s" % (where, e.message[:200]))
    return out


def read_blind(path):
    """NAME -> reason from SCHEMA_BLIND; reports malformed lines."""
    blind = {}
    if not os.path.exists(path):
        fail("SCHEMA_BLIND", "missing")
        return blind
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\S+\.json) +# +(\S.*)$", line)
            if not m:
                fail("SCHEMA_BLIND:%d" % n, "not \"NAME.json # reason\": %r" % line)
                continue
            if m.group(1) in blind:
                fail("SCHEMA_BLIND:%d" % n, "%s listed twice" % m.group(1))
            blind[m.group(1)] = m.group(2)
    return blind


def read_expected(path, name):
    """The error classes of NAME.expected (warnings ignored), or None and
    why. A line not starting with the file's name continues the message
    of the line before (a message may quote a key holding a newline)."""
    classes = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f):
            line = line.rstrip("\n")
            m = LINE.match(line)
            if m and os.path.basename(m.group("file")) == name:
                pass
            elif n > 0:
                continue
            else:
                return None, "unparsable line %r" % line
            if m.group("warn"):
                if m.group("cls") not in WARNINGS:
                    return None, "unknown warning class in %r" % line
                continue
            if m.group("cls") not in CLASSES:
                return None, "unknown class in %r" % line
            classes.append(m.group("cls"))
    return classes, None


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: schema_agrees.py SRCDIR\n")
        return 2
    src = sys.argv[1]
    flows = os.path.join(src, "flows")
    schema_path = os.path.join(flows, "flow.schema.json")

    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f, object_pairs_hook=no_duplicates)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, Unreadable,
            jsonschema.exceptions.SchemaError) as e:
        fail("schema-is-valid", str(e)[:600])
        return 1
    ok("schema-is-valid")
    validator = jsonschema.Draft202012Validator(schema)

    for path in sorted(glob.glob(os.path.join(flows, "*.json"))):
        name = os.path.basename(path)
        if name.endswith(".schema.json"):
            continue   # a JSON Schema, not a flow
        try:
            errs = schema_errors(validator, load(path))
        except Unreadable as e:
            fail(name, str(e))
            continue
        if errs:
            fail(name, "a shipped flow, but the schema rejects it: " + "; ".join(errs[:5]))
        else:
            ok(name)

    invalid = os.path.join(src, "tests", "invalid")
    blind = read_blind(os.path.join(invalid, "SCHEMA_BLIND"))
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(invalid, "*.json")))
    for name in sorted(set(blind) - set(names)):
        fail(name, "listed in SCHEMA_BLIND, but there is no such file")
    rejected = accepted = 0
    for name in names:
        path = os.path.join(invalid, name)
        exp = path[:-len(".json")] + ".expected"
        if not os.path.exists(exp):
            fail(name, "no %s" % os.path.basename(exp))
            continue
        classes, why = read_expected(exp, name)
        if classes is None:
            fail(name, os.path.basename(exp) + ": " + why)
            continue
        if not classes:
            fail(name, "%s lists no error" % os.path.basename(exp))
            continue
        try:
            errs = schema_errors(validator, load(path))
        except Unreadable as e:
            errs = ["unreadable: %s" % e]
        shape = SHAPE & set(classes)
        if name in blind:
            if errs:
                fail(name, "in SCHEMA_BLIND, but the schema rejects it (%s); "
                     "remove it from the list" % "; ".join(errs[:3]))
            else:
                accepted += 1
                ok(name)
        elif not shape:
            # Only dangling references and templates naming keys no
            # node saves: a schema cannot follow them.
            if errs:
                fail(name, "only dangling-reference errors, but the schema "
                     "rejects it: " + "; ".join(errs[:3]))
            else:
                fail(name, "only dangling-reference errors, which no schema "
                     "can see; list it in SCHEMA_BLIND")
        elif errs:
            rejected += 1
            ok(name)
        else:
            fail(name, "blueflow check reports %s, but the schema accepts it; "
                 "tighten the schema, or list it in SCHEMA_BLIND with the reason"
                 % ", ".join(sorted(shape)))
    print("# %d invalid flows rejected by the schema, %d schema-blind"
          % (rejected, accepted))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
