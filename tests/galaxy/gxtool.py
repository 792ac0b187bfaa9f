"""Loading a Galaxy tool the way Galaxy does: macro expansion, schema validation, parsing.

Macro expansion follows lib/galaxy/util/xml_macros.py: <macros> with <import>
(files relative to the tool's folder, recursively), <token> (expanded in the
text and attributes of every element, nested tokens first), <xml> macros
expanded by <expand macro=...> (parameters from tokens="a,b" or token_x="default",
named <yield name=...> filled by <token name=...> children of <expand>, unnamed
<yield/> by the other children, nested expansion, cycle detection); <template>
macros are kept. The expanded tree is what xmllint validates against galaxy.xsd.
"""

import copy
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET


class ToolError(Exception):
    """The tool (or one of its tests) cannot be loaded or interpreted."""


# ---------------------------------------------------------------- macros

def _parse(path):
    try:
        return ET.parse(path)
    except ET.ParseError as e:
        raise ToolError(f"{path}: not well-formed XML: {e}") from e


def _parent_map(root):
    return {child: parent for parent in root.iter() for child in parent}


def _replace(root, old, news):
    """Replaces element old (a descendant of root) by copies of news, keeping old's tail."""
    parents = _parent_map(root)
    parent = parents.get(old)
    if parent is None:
        raise ToolError(f"cannot replace the root element <{old.tag}>")
    index = list(parent).index(old)
    parent.remove(old)
    for offset, new in enumerate(news):
        parent.insert(index + offset, copy.deepcopy(new))


def _collect_macros(macros_el, base_dir, found, paths):
    """Adds the macros under macros_el (imports first, as Galaxy does) to found."""
    for imp in macros_el.findall("import"):
        rel = (imp.text or "").strip()
        path = os.path.join(base_dir, rel)
        if not os.path.isfile(path):
            raise ToolError(f"imported macro file {rel} not found in {base_dir}")
        paths.append(path)
        # An imported file's root is its <macros>; its own imports are relative to the tool.
        _collect_macros(_parse(path).getroot(), base_dir, found, paths)
    for el in macros_el:
        if el.tag == "macro":
            kind = el.get("type", "xml")
        elif el.tag in ("xml", "token", "template"):
            kind = el.tag
        else:
            continue
        found.setdefault(kind, []).append(el)


def expand_nested_tokens(tokens):
    for name in list(tokens):
        for other, value in list(tokens.items()):
            if name in value:
                if name == other:
                    raise ToolError(f"token {name} cannot contain itself")
                tokens[other] = value.replace(name, tokens[name])
    return tokens


def _expand_tokens_str(s, tokens):
    for key, value in tokens.items():
        if key in s:
            s = s.replace(key, value)
    return s


def expand_tokens(el, tokens):
    """Text and attributes (names and values) of el and its descendants; not tails."""
    if not tokens:
        return
    if el.text:
        el.text = _expand_tokens_str(el.text, tokens)
    for key in list(el.attrib):
        value = el.attrib[key]
        el.attrib[key] = _expand_tokens_str(value, tokens)
        new_key = _expand_tokens_str(key, tokens)
        if new_key != key:
            el.attrib[new_key] = el.attrib.pop(key)
    for child in list(el):
        expand_tokens(child, tokens)


class XmlMacro:
    def __init__(self, el):
        self.el = el
        self.name = el.get("name")
        quote = el.get("token_quote", "@")
        self.params = {}
        for key, value in el.attrib.items():
            if key == "tokens":
                for tok in value.split(","):
                    self.params[tok] = (quote, None)
            elif key.startswith("token_") and key != "token_quote":
                self.params[key[len("token_"):]] = (quote, value)

    def tokens_for(self, expand_el):
        out = {}
        for name, (quote, default) in self.params.items():
            value = expand_el.get(name, default)
            if value is None:
                raise ToolError(f"macro {self.name}: missing required parameter {name}")
            out[f"{quote}{name.upper()}{quote}"] = value
        return out


def _fill_yields(holder, expand_el):
    """holder is a scratch element whose children are the macro's copy."""
    for token_el in expand_el.findall("token"):
        name = token_el.get("name")
        if name is None:
            raise ToolError("<token> inside <expand> without a name")
        targets = [y for y in holder.iter("yield") if y.get("name") == name]
        if not targets:
            raise ToolError(f"no <yield name=\"{name}\"/> for the named token {name}")
        for y in targets:
            _replace(holder, y, list(token_el))
    rest = [c for c in expand_el if c.tag != "token"]
    for y in list(holder.iter("yield")):
        _replace(holder, y, rest)


def _expand_one(root, expand_el, macros, visited):
    name = expand_el.get("macro")
    if name is None:
        raise ToolError("<expand> without a macro attribute")
    if name in visited:
        raise ToolError(f"cycle in nested macros: {' > '.join(visited + [name])}")
    if name not in macros:
        raise ToolError(f"no macro named {name} (known: {', '.join(sorted(macros))})")
    macro = macros[name]
    holder = ET.Element("__holder__")
    holder.extend(copy.deepcopy(list(macro.el)))
    _fill_yields(holder, expand_el)
    params = macro.tokens_for(expand_el)
    if params:
        for child in holder:
            expand_tokens(child, params)
    visited.append(name)
    while True:
        inner = holder.find(".//expand")
        if inner is None:
            break
        _expand_one(holder, inner, macros, visited)
    visited.pop()
    _replace(root, expand_el, list(holder))


def expand_macros(path):
    """The macro-expanded tree of the tool at path, and the imported files."""
    tree = _parse(path)
    root = tree.getroot()
    macros_el = root.find("macros")
    if macros_el is None:
        return tree, []
    found, paths = {}, []
    _collect_macros(macros_el, os.path.dirname(os.path.abspath(path)), found, paths)
    templates = found.get("template", [])
    macros_el.clear()
    tokens = expand_nested_tokens({m.get("name"): m.text or "" for m in found.get("token", [])})
    xml_macros = {m.get("name"): XmlMacro(m) for m in found.get("xml", [])}
    while True:
        el = root.find(".//expand")
        if el is None:
            break
        _expand_one(root, el, xml_macros, [])
    for t in templates:
        macros_el.append(t)
    expand_tokens(root, tokens)
    return tree, paths


def template_macros(root):
    """<macros><template name=...> (or <macro type="template">) bodies, for Cheetah."""
    out = {}
    macros_el = root.find("macros")
    if macros_el is not None:
        for m in macros_el:
            if m.tag == "template" or (m.tag == "macro" and m.get("type") == "template"):
                out[m.get("name")] = m.text or ""
    return out


def write_expanded(tree, path):
    root = copy.deepcopy(tree.getroot())
    m = root.find("macros")
    if m is not None and len(m) == 0:
        root.remove(m)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def validate_schema(tree, xsd, label):
    """Runs xmllint on the expanded tree; returns a list of error lines (empty: valid)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".xml", delete=False) as tmp:
        name = tmp.name
    try:
        write_expanded(tree, name)
        try:
            proc = subprocess.run(["xmllint", "--noout", "--schema", xsd, name],
                                  capture_output=True, text=True)
        except FileNotFoundError:
            return ["xmllint not found (Debian package libxml2-utils)"]
        if proc.returncode == 0:
            return []
        lines = [l.replace(name, label) for l in proc.stderr.splitlines()
                 if l.strip() and not l.endswith("fails to validate")]
        return lines or [f"xmllint exit {proc.returncode}"]
    finally:
        os.unlink(name)


def check_help_rst(root):
    """Problems docutils finds in <help> (what planemo lint reports); None without docutils."""
    try:
        import docutils.core
        import docutils.utils
    except ImportError:
        return None
    help_el = root.find("help")
    if help_el is None or not (help_el.text or "").strip():
        return ["no <help>"]
    import io
    stream = io.StringIO()
    docutils.core.publish_doctree(
        help_el.text, settings_overrides={"warning_stream": stream, "report_level": 2,
                                          "halt_level": 5})
    return [l for l in stream.getvalue().splitlines() if l.strip()]


# ---------------------------------------------------------------- parsing

def as_bool(value, default=False):
    if value is None:
        return default
    return str(value).strip().lower() in ("true", "yes", "on", "1")


class Param:
    """One <param>, <repeat>, <section> or <conditional> of <inputs>."""

    def __init__(self, el, tool):
        self.el = el
        self.tool = tool
        self.kind = el.tag
        self.name = el.get("name") or el.get("argument", "").lstrip("-").replace("-", "_")
        if not self.name:
            raise ToolError(f"<{el.tag}> without name")
        self.type = el.get("type") if el.tag == "param" else el.tag
        self.optional = as_bool(el.get("optional"), False)
        self.children = []
        self.cases = {}
        self.test_param = None
        if el.tag in ("repeat", "section"):
            self.children = parse_inputs(el, tool)
        elif el.tag == "conditional":
            test_el = el.find("param")
            if test_el is None:
                raise ToolError(f"conditional {self.name} without a test <param>")
            self.test_param = Param(test_el, tool)
            for when in el.findall("when"):
                self.cases[when.get("value")] = parse_inputs(when, tool)
        elif el.tag == "param":
            self._parse_param()
        else:
            raise ToolError(f"unsupported input element <{el.tag}>")

    def _parse_param(self):
        el = self.el
        t = self.type
        known = {"text", "integer", "float", "boolean", "select", "data", "hidden"}
        if t not in known:
            raise ToolError(f"param {self.name}: type {t} is not supported by this runner")
        self.value = el.get("value")
        self.validators = el.findall("validator")
        san = el.find("sanitizer")
        self.sanitizer = Sanitizer.from_element(san) if san is not None else None
        self.multiple = as_bool(el.get("multiple"), False)
        self.formats = [f.strip() for f in (el.get("format") or "data").split(",")]
        self.truevalue = el.get("truevalue", "true")
        self.falsevalue = el.get("falsevalue", "false")
        self.checked = as_bool(el.get("checked"), False)
        self.min = el.get("min")
        self.max = el.get("max")
        self.options = [(o.get("value"), as_bool(o.get("selected"))) for o in el.findall("option")]
        if t == "select" and (el.find("options") is not None):
            raise ToolError(f"param {self.name}: dynamic <options> are not supported by this runner")
        if t == "select" and not self.options:
            raise ToolError(f"param {self.name}: select without options")

    def default(self):
        t = self.type
        if self.kind == "repeat":
            n = int(self.el.get("default", self.el.get("min", "0")) or 0)
            return [{c.name: c.default() for c in self.children} for _ in range(n)]
        if self.kind == "section":
            return {c.name: c.default() for c in self.children}
        if self.kind == "conditional":
            value = self.test_param.default()
            case = {c.name: c.default() for c in self.cases.get(str_value(self.test_param, value), [])}
            case[self.test_param.name] = value
            return case
        if t == "boolean":
            return self.checked
        if t == "select":
            selected = [v for v, s in self.options if s]
            if self.multiple:
                return selected
            if selected:
                return selected[0]
            return None if self.optional else self.options[0][0]
        if t == "data":
            return None
        if t in ("integer", "float"):
            if self.value in (None, ""):
                return None
            return int(self.value) if t == "integer" else float(self.value)
        return self.value if self.value is not None else ("" if not self.optional else None)


def str_value(param, value):
    if param.type == "boolean":
        return param.truevalue if value else param.falsevalue
    return "" if value is None else str(value)


def parse_inputs(parent, tool):
    return [Param(el, tool) for el in parent if el.tag in ("param", "repeat", "section", "conditional")]


# ---------------------------------------------------------------- sanitizing

VALID_DEFAULT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -=_.()/+*^,:?!"
MAPPED_DEFAULT = {">": "__gt__", "<": "__lt__", "'": "__sq__", '"': "__dq__", "[": "__ob__",
                  "]": "__cb__", "{": "__oc__", "}": "__cc__", "@": "__at__", "\n": "__cn__",
                  "\r": "__cr__", "\t": "__tc__", "#": "__pd__"}


def sanitize_default(text):
    """galaxy.util.sanitize_param for a text value."""
    out = []
    for c in text:
        if c in VALID_DEFAULT:
            out.append(c)
        elif c in MAPPED_DEFAULT:
            out.append(MAPPED_DEFAULT[c])
        else:
            out.append("X")
    return "".join(out)


class Sanitizer:
    """ToolParameterSanitizer: a declared <sanitizer> starts with nothing valid and nothing mapped."""

    import string as _string
    PRESETS = {"default": VALID_DEFAULT, "none": ""}
    STRINGS = {
        "string.ascii_letters": _string.ascii_letters, "string.letters": _string.ascii_letters,
        "string.ascii_lowercase": _string.ascii_lowercase, "string.lowercase": _string.ascii_lowercase,
        "string.ascii_uppercase": _string.ascii_uppercase, "string.uppercase": _string.ascii_uppercase,
        "string.digits": _string.digits, "string.hexdigits": _string.hexdigits,
        "string.octdigits": _string.octdigits, "string.punctuation": _string.punctuation,
        "string.printable": _string.printable, "string.whitespace": _string.whitespace,
    }

    def __init__(self):
        self.valid = []
        self.mapped = {}
        self.invalid_char = "X"
        self.sanitize = True

    @classmethod
    def valid_by_name(cls, names):
        out = []
        for name in names.split(","):
            name = name.split(";", 1)[0].strip()
            if name.startswith("string."):
                value = cls.STRINGS.get(name)
                if value is None:
                    raise ToolError(f"sanitizer: unknown string preset {name}")
            elif name in cls.PRESETS:
                value = cls.PRESETS[name]
            else:
                raise ToolError(f"sanitizer: unknown preset {name}")
            out.extend(c for c in value if c not in out)
        return out

    @classmethod
    def mapping_by_name(cls, names):
        out = {}
        for name in names.split(","):
            name = name.strip()
            if name == "default":
                out.update(MAPPED_DEFAULT)
            elif name != "none":
                raise ToolError(f"sanitizer: unknown mapping preset {name}")
        return out

    @classmethod
    def from_element(cls, el):
        s = cls()
        s.invalid_char = el.get("invalid_char", "X")
        s.sanitize = as_bool(el.get("sanitize", "True"), True)
        for valid in el.findall("valid"):
            s.valid = cls.valid_by_name(valid.get("initial", "default"))
            for action in valid:
                chars = cls.valid_by_name(action.get("preset", "none")) + list(action.get("value", ""))
                if action.tag == "add":
                    s.valid.extend(c for c in chars if c not in s.valid)
                elif action.tag == "remove":
                    s.valid = [c for c in s.valid if c not in chars]
                else:
                    raise ToolError(f"sanitizer: unknown <valid> action <{action.tag}>")
        for mapping in el.findall("mapping"):
            s.mapped = cls.mapping_by_name(mapping.get("initial", "default"))
            for action in mapping:
                preset = cls.mapping_by_name(action.get("preset", "none"))
                source, target = action.get("source"), action.get("target")
                if action.tag == "add":
                    s.mapped.update(preset)
                    if source is not None and target is not None:
                        s.mapped[source] = target
                elif action.tag == "remove":
                    for key in preset:
                        s.mapped.pop(key, None)
                    if source is not None:
                        s.mapped.pop(source, None)
                else:
                    raise ToolError(f"sanitizer: unknown <mapping> action <{action.tag}>")
        return s

    def __call__(self, text):
        if not self.sanitize:
            return text
        out = []
        for c in text:
            if c in self.valid:
                out.append(c)
            elif c in self.mapped:
                out.append(self.mapped[c])
            else:
                out.append(self.invalid_char)
        return "".join(out)


# ---------------------------------------------------------------- the tool

class Output:
    def __init__(self, el):
        self.el = el
        self.name = el.get("name")
        self.kind = el.tag  # data | collection
        self.format = el.get("format") or el.get("ext") or "data"
        self.label = el.get("label")
        self.filters = [f.text.strip() for f in el.findall("filter") if f.text]
        self.change_format = [(w.get("input"), w.get("value"), w.get("format"))
                              for cf in el.findall("change_format") for w in cf.findall("when")]
        self.discover = [dict(d.attrib) for d in el.findall("discover_datasets")]
        self.collection_type = el.get("type")
        for d in el.findall("change_format/when"):
            if d.get("input") is None:
                raise ToolError(f"output {self.name}: <when> without input= is not supported")
        if self.kind == "collection" and el.get("structured_like"):
            raise ToolError(f"output {self.name}: structured_like is not supported by this runner")
        if self.kind == "collection" and el.findall("data"):
            raise ToolError(f"output {self.name}: static collection elements are not supported")


class Tool:
    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(os.path.abspath(path))
        self.tree, self.macro_paths = expand_macros(path)
        root = self.root = self.tree.getroot()
        if root.tag != "tool":
            raise ToolError(f"{path}: root element is <{root.tag}>, not <tool>")
        self.id = root.get("id")
        self.name = root.get("name")
        self.version = root.get("version")
        self.profile = root.get("profile", "16.01")
        cmd = root.find("command")
        self.command = (cmd.text or "") if cmd is not None else ""
        self.command_el = cmd
        vc = root.find("version_command")
        self.version_command = (vc.text or "").strip() if vc is not None else None
        self.inputs = parse_inputs(root.find("inputs") if root.find("inputs") is not None
                                   else ET.Element("inputs"), self)
        outs = root.find("outputs")
        self.outputs = [Output(o) for o in (outs if outs is not None else []) if o.tag in ("data", "collection")]
        self.configfiles = []
        cfs = root.find("configfiles")
        if cfs is not None:
            for cf in cfs:
                if cf.tag != "configfile":
                    raise ToolError(f"<{cf.tag}> in <configfiles> is not supported by this runner")
                self.configfiles.append((cf.get("name"), cf.get("filename"), cf.text or ""))
        self.credentials = []
        for cred in root.findall("requirements/credentials"):
            secrets = [(s.get("name"), s.get("inject_as_env")) for s in cred.findall("secret")]
            variables = [(v.get("name"), v.get("inject_as_env")) for v in cred.findall("variable")]
            self.credentials.append((cred.get("name"), secrets, variables))
        self.env_vars = root.findall("environment_variables/environment_variable")
        self.templates = template_macros(root)
        self.stdio = root.find("stdio")
        self.tests = root.findall("tests/test")

    def profile_at_least(self, version):
        def key(v):
            return tuple(int(x) for x in re.findall(r"\d+", str(v)))
        return key(self.profile) >= key(version)

    def input_by_name(self, name, inputs=None):
        for p in (self.inputs if inputs is None else inputs):
            if p.name == name:
                return p
        return None
