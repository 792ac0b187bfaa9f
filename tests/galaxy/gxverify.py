"""Checking outputs the way Galaxy's test framework does (lib/galaxy/tool_util/verify).

Only the assertions and comparisons implemented here may be used: anything
else in a test is reported as an error, never skipped.
"""

import difflib
import filecmp
import hashlib
import io
import os
import re
import tarfile
import zipfile

from gxtool import ToolError, as_bool

# ---------------------------------------------------------------- numbers


def parse_bytesize(value):
    """galaxy.util.bytesize.parse_bytesize: 10, 10k (1000), 10Ki (1024), ... up to E."""
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    m = re.match(r"^([0-9]+(?:\.[0-9]+)?)\s*([kKMGTPE]?)(i?)[bB]?$", text)
    if not m:
        raise ToolError(f"not a size: {value!r}")
    number, unit, binary = m.groups()
    power = " KMGTPE".index(unit.upper()) if unit else 0
    base = 1024 if binary else 1000
    result = float(number) * base ** power
    return int(result) if result == int(result) else result


def _assert_number(count, n, delta, lo, hi, negate, n_text, range_text):
    expected = "Did not expect" if negate else "Expected"
    if n is not None:
        inside = abs(count - parse_bytesize(n)) <= parse_bytesize(delta)
        assert inside != negate, n_text.format(expected=expected, n=n, delta=delta) + f" found {count}"
    if lo is not None or hi is not None:
        lo_v = parse_bytesize(lo) if lo is not None else float("-inf")
        hi_v = parse_bytesize(hi) if hi is not None else float("inf")
        inside = lo_v <= count <= hi_v
        assert inside != negate, range_text.format(expected=expected, min=lo, max=hi) + f" found {count}"


def _presence_number(attrs, present, count, what):
    n, delta = attrs.get("n"), attrs.get("delta", 0)
    lo, hi = attrs.get("min"), attrs.get("max")
    negate = as_bool(attrs.get("negate"), False)
    expected = "Did not expect" if negate else "Expected"
    if n is None and lo is None and hi is None:
        assert present() != negate, f"{expected} {what}"
    safe = what.replace("{", "{{").replace("}", "}}")  # what quotes the output: no format fields
    _assert_number(count(), n, delta, lo, hi, negate,
                   "{expected} {n}+-{delta} occurrences of " + safe,
                   "{expected} the number of occurrences of " + safe + " in [{min}:{max}]")


# ---------------------------------------------------------------- assertions

def _short(text, limit=300):
    text = text if len(text) <= limit else text[:limit] + "..."
    return text.replace("\n", "\\n")


def _attrs(el, allowed, required=()):
    unknown = set(el.attrib) - set(allowed)
    if unknown:
        raise ToolError(f"<{el.tag}>: attributes {sorted(unknown)} are not supported by this runner")
    for r in required:
        if r not in el.attrib:
            raise ToolError(f"<{el.tag}> needs the attribute {r}")
    return dict(el.attrib)


COUNTS = ("n", "delta", "min", "max", "negate")


def a_has_text(data, el):
    a = _attrs(el, ("text",) + COUNTS, ("text",))
    out, text = data.decode("utf-8", "replace"), a["text"]
    _presence_number(a, lambda: text in out, lambda: len(re.findall(re.escape(text), out)),
                     f"text '{text}' in output ('{_short(out)}')")


def a_not_has_text(data, el):
    a = _attrs(el, ("text",), ("text",))
    out = data.decode("utf-8", "replace")
    assert a["text"] not in out, f"Output file contains unexpected text '{a['text']}'"


def a_has_line(data, el):
    a = _attrs(el, ("line",) + COUNTS, ("line",))
    out, line = data.decode("utf-8", "replace"), a["line"]
    rx = f"^{re.escape(line)}$"
    _presence_number(a, lambda: re.search(rx, out, re.M) is not None,
                     lambda: len(re.findall(rx, out, re.M)), f"line '{line}' in output ('{_short(out)}')")


def a_has_line_matching(data, el):
    a = _attrs(el, ("expression",) + COUNTS, ("expression",))
    out, e = data.decode("utf-8", "replace"), a["expression"]
    rx = f"^{e}$"
    _presence_number(a, lambda: re.search(rx, out, re.M) is not None,
                     lambda: len(re.findall(rx, out, re.M)),
                     f"line matching expression '{e}' in output ('{_short(out)}')")


def a_has_text_matching(data, el):
    a = _attrs(el, ("expression",) + COUNTS, ("expression",))
    out, e = data.decode("utf-8", "replace"), a["expression"]
    _presence_number(a, lambda: re.search(e, out) is not None, lambda: len(re.findall(e, out)),
                     f"text matching expression '{e}' in output ('{_short(out)}')")


def a_has_n_lines(data, el):
    a = _attrs(el, COUNTS)
    count = len(data.decode("utf-8", "replace").splitlines())
    _assert_number(count, a.get("n"), a.get("delta", 0), a.get("min"), a.get("max"),
                   as_bool(a.get("negate"), False), "{expected} {n}+-{delta} lines in the output",
                   "{expected} the number of lines to be in [{min}:{max}]")


def a_has_size(data, el):
    a = _attrs(el, ("value", "size") + COUNTS)
    size = a.get("size", a.get("value"))
    _assert_number(len(data), size, a.get("delta", 0), a.get("min"), a.get("max"),
                   as_bool(a.get("negate"), False), "{expected} file size of {n}+-{delta}",
                   "{expected} file size to be in [{min}:{max}]")


def _archive(data):
    bio = io.BytesIO(data)
    if zipfile.is_zipfile(bio):
        z = zipfile.ZipFile(io.BytesIO(data))
        return z.namelist(), lambda name: z.read(name)
    try:
        t = tarfile.open(fileobj=io.BytesIO(data), mode="r")
    except tarfile.TarError:
        return None, None

    def read(name):
        member = t.getmember(name)
        if member.isdir():
            return b""
        return t.extractfile(member).read()
    return t.getnames(), read


def a_has_archive_member(data, el):
    a = _attrs(el, ("path", "all") + COUNTS, ("path",))
    names, read = _archive(data)
    assert names is not None, f"Expected path '{a['path']}' to be an archive"
    matches = sorted(n for n in names if re.match(a["path"], n))
    _presence_number(a, lambda: len(matches) > 0, lambda: len(matches),
                     f"path '{a['path']}' in archive (members: {_short(', '.join(sorted(names)))})")
    for name in matches:
        try:
            verify_assertions(read(name), list(el))
        except AssertionError as e:
            raise AssertionError(f"Archive member '{a['path']}': {e}")
        if not as_bool(a.get("all"), False):
            break


ASSERTIONS = {
    "has_text": a_has_text,
    "not_has_text": a_not_has_text,
    "has_line": a_has_line,
    "has_line_matching": a_has_line_matching,
    "has_text_matching": a_has_text_matching,
    "has_n_lines": a_has_n_lines,
    "has_size": a_has_size,
    "has_archive_member": a_has_archive_member,
}


def verify_assertions(data, elements):
    for el in elements:
        fn = ASSERTIONS.get(el.tag)
        if fn is None:
            raise ToolError(f"assertion <{el.tag}> is not implemented by this runner")
        if el.tag != "has_archive_member" and len(el):
            raise ToolError(f"<{el.tag}> cannot have children")
        fn(data, el)


# ---------------------------------------------------------------- file comparisons

OUTPUT_ATTRS = {"name", "file", "value", "ftype", "compare", "lines_diff", "delta", "delta_frac",
                "sort", "md5", "checksum", "decompress", "count"}


def _read_lines(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AssertionError("Binary data detected, not displaying diff")
    # Text-mode readlines(): universal newlines, lines end at "\n" only.
    return io.StringIO(text, newline=None).readlines()


def files_diff(expected, actual, attrs):
    if filecmp.cmp(expected, actual, shallow=False):
        return
    local, history = _read_lines(expected), _read_lines(actual)
    if as_bool(attrs.get("sort"), False):
        local.sort()
        history.sort()
    allowed = int(attrs.get("lines_diff", 0))
    diff = list(difflib.unified_diff(local, history, "local_file", "history_data"))
    changed = sum(1 for l in diff if (l.startswith("+") and not l.startswith("+++"))
                  or (l.startswith("-") and not l.startswith("---")))
    if changed > allowed:
        shown = diff if len(diff) < 60 else diff[:25] + ["********\n", "*SNIP *\n", "********\n"] + diff[-25:]
        raise AssertionError(f"{changed} changed lines (lines_diff={allowed}):\n" + "".join(shown[:80]))


def files_re_match(expected, actual, attrs, multiline=False):
    local, history = _read_lines(expected), _read_lines(actual)
    if multiline:
        rx = "".join(local)
        text = "".join(history)
        if as_bool(attrs.get("sort"), False):
            text = "".join(sorted(history))
        assert re.match(rx, text, re.MULTILINE), "Multiline regular expression did not match data file"
        return
    assert len(local) == len(history), \
        f"Data File and Regular Expression File contain a different number of lines ({len(local)} != {len(history)})"
    if as_bool(attrs.get("sort"), False):
        history.sort()
    allowed = int(attrs.get("lines_diff", 0))
    bad = [(r.rstrip("\n"), d.rstrip("\n")) for r, d in zip(local, history)
           if not re.match(r.rstrip("\n"), d.rstrip("\n"))]
    if len(bad) > allowed:
        raise AssertionError("Regular expression did not match data file:\n" +
                             "".join(f"Regular Expression: {r}, Data file: {d}\n" for r, d in bad))


def files_delta(expected, actual, attrs):
    delta = int(attrs.get("delta", 10000))
    frac = attrs.get("delta_frac")
    s1, s2 = os.path.getsize(expected), os.path.getsize(actual)
    assert abs(s1 - s2) <= delta, f"Files {s1}b and {s2}b - compare by size (delta={delta}) failed"
    if frac is not None:
        f = float(frac)
        assert s1 - s1 * f <= s2 <= s1 + s1 * f, f"compare by size (delta_frac={frac}) failed"


def files_contains(expected, actual, attrs):
    local, history = _read_lines(expected), _read_lines(actual)
    allowed = int(attrs.get("lines_diff", 0))
    missing = [l for l in local if l not in history]
    assert len(missing) <= allowed, f"{len(missing)} lines of the expected file are missing: {missing[:5]}"


def verify_dataset(label, path, ext, attrs, children, test_data):
    """One <output> or <element>: ftype, assertions, checksum, comparison with a file."""
    unknown = set(attrs) - OUTPUT_ATTRS
    if unknown:
        raise ToolError(f"{label}: attributes {sorted(unknown)} are not supported by this runner")
    for child in children:
        if child.tag != "assert_contents":
            raise ToolError(f"{label}: <{child.tag}> is not supported by this runner")
    if attrs.get("decompress"):
        raise ToolError(f"{label}: decompress is not supported by this runner")
    if attrs.get("ftype") and attrs["ftype"] != ext:
        raise AssertionError(f"{label}: expected datatype {attrs['ftype']}, found {ext}")
    with open(path, "rb") as fh:
        data = fh.read()
    for child in children:
        try:
            verify_assertions(data, list(child))
        except AssertionError as e:
            raise AssertionError(f"{label} different than expected\n{e}")
    if attrs.get("md5"):
        got = hashlib.md5(data).hexdigest()
        assert got == attrs["md5"], f"{label}: md5 {got}, expected {attrs['md5']}"
    if attrs.get("checksum"):
        algo, value = attrs["checksum"].split("$", 1)
        got = hashlib.new(algo, data).hexdigest()
        assert got == value, f"{label}: {algo} {got}, expected {value}"
    expected = attrs.get("file") or attrs.get("value")
    if expected:
        expected_path = os.path.join(test_data, expected)
        if not os.path.isfile(expected_path):
            raise ToolError(f"{label}: test-data file {expected} not found")
        compare = attrs.get("compare", "diff")
        try:
            if compare == "diff":
                files_diff(expected_path, path, attrs)
            elif compare == "re_match":
                files_re_match(expected_path, path, attrs)
            elif compare == "re_match_multiline":
                files_re_match(expected_path, path, attrs, multiline=True)
            elif compare == "sim_size":
                files_delta(expected_path, path, attrs)
            elif compare == "contains":
                files_contains(expected_path, path, attrs)
            else:
                raise ToolError(f"{label}: compare={compare} is not supported")
        except AssertionError as e:
            raise AssertionError(f"{label} different than expected (using {compare}, {expected}):\n{e}")


def verify_collection(label, coll_el, collection, test_data):
    """<output_collection>: type, count, and each <element> in the order given."""
    unknown = set(coll_el.attrib) - {"name", "type", "count"}
    if unknown:
        raise ToolError(f"{label}: attributes {sorted(unknown)} are not supported by this runner")
    if coll_el.get("type") and coll_el.get("type") != collection["type"]:
        raise AssertionError(f"{label}: expected type {coll_el.get('type')}, was {collection['type']}")
    ids = [e["identifier"] for e in collection["elements"]]
    if coll_el.get("count") and int(coll_el.get("count")) != len(ids):
        raise AssertionError(f"{label}: expected {coll_el.get('count')} elements, found {len(ids)}: {ids}")
    position = 0  # Galaxy's check: each identifier looked up after the previous one (slice-relative)
    for child in coll_el:
        if child.tag != "element":
            raise ToolError(f"{label}: <{child.tag}> is not supported here")
        name = child.get("name")
        match = [e for e in collection["elements"] if e["identifier"] == name]
        if not match:
            raise AssertionError(f"{label}: no element '{name}' among {ids}")
        if child.find("element") is not None:
            raise ToolError(f"{label}: nested collections are not supported by this runner")
        try:
            position = ids[position:].index(name) + 1
        except ValueError:
            raise AssertionError(f"{label}: element '{name}' out of the order of the test ({ids})")
        attrs = {k: v for k, v in child.attrib.items() if k != "name"}
        verify_dataset(f"{label} element '{name}'", match[0]["path"], match[0]["ext"], attrs,
                       list(child), test_data)
