"""Tool state from a <test>, validation, and the Cheetah view of the parameters.

The wrappers behave like lib/galaxy/tools/wrappers.py: a text, integer or
float renders as its value (text sanitized unless the parameter declares a
<sanitizer>), a boolean as its truevalue/falsevalue, a select as its value, a
dataset as its path with .ext, .name, .element_identifier, .metadata, .files_path;
truth is the truth of the raw value; conditionals and sections are dicts,
repeats lists of dicts.
"""

import re

from Cheetah.Template import Template

from gxtool import ToolError, as_bool, sanitize_default, str_value


class SubmissionError(Exception):
    """What Galaxy refuses when the job is submitted (validators, bad values)."""


# ---------------------------------------------------------------- state from a test

def _split_name(name):
    return name.split("|")


def _find_child(inputs, name):
    for p in inputs:
        if p.name == name:
            return p
    return None


def _set_flat(inputs, state, parts, value_el, full):
    """Applies name a|b|c (repeat instances written name_N) to state."""
    head = parts[0]
    m = re.match(r"^(.*)_(\d+)$", head)
    param = _find_child(inputs, head)
    if param is None and m and _find_child(inputs, m.group(1)) is not None \
            and _find_child(inputs, m.group(1)).kind == "repeat":
        rep = _find_child(inputs, m.group(1))
        index = int(m.group(2))
        instances = state.setdefault(rep.name, [])
        while len(instances) <= index:
            instances.append({c.name: c.default() for c in rep.children})
        if len(parts) < 2:
            raise ToolError(f"test parameter {full}: a repeat instance needs a child name")
        _set_flat(rep.children, instances[index], parts[1:], value_el, full)
        return
    if param is None:
        raise ToolError(f"test parameter {full} matches no input of the tool")
    if len(parts) == 1:
        if param.kind != "param":
            raise ToolError(f"test parameter {full} names a <{param.kind}>, not a parameter")
        state[param.name] = raw_value(param, value_el)
        return
    if param.kind == "section":
        _set_flat(param.children, state[param.name], parts[1:], value_el, full)
    elif param.kind == "conditional":
        cond_state = state[param.name]
        if parts[1] == param.test_param.name and len(parts) == 2:
            value = raw_value(param.test_param, value_el)
            _switch_case(param, cond_state, value)
        else:
            case = param.cases.get(str_value(param.test_param, cond_state[param.test_param.name]), [])
            _set_flat(case, cond_state, parts[1:], value_el, full)
    else:
        raise ToolError(f"test parameter {full}: {param.name} has no children")


def _switch_case(cond, cond_state, value):
    key = str_value(cond.test_param, value)
    if key not in cond.cases:
        raise SubmissionError(f"conditional {cond.name}: no case for {key!r}")
    cond_state.clear()
    cond_state.update({c.name: c.default() for c in cond.cases[key]})
    cond_state[cond.test_param.name] = value


def raw_value(param, el):
    """The value a <param> of a test gives to param, as Galaxy's state holds it."""
    t = param.type
    if el.find("collection") is not None or el.find("composite_data") is not None:
        raise ToolError(f"test parameter {param.name}: collections/composite inputs are not supported")
    value = el.get("value")
    if t == "data":
        if value is None:
            return None
        if "," in value:
            raise ToolError(f"test parameter {param.name}: several datasets are not supported")
        unknown = set(el.attrib) - {"name", "value", "ftype"}
        if unknown:
            raise ToolError(f"test parameter {param.name}: attributes {sorted(unknown)} not supported")
        return {"file": value, "ftype": el.get("ftype")}
    unknown = set(el.attrib) - {"name", "value"}
    if unknown:
        raise ToolError(f"test parameter {param.name}: attributes {sorted(unknown)} not supported")
    if t == "boolean":
        return as_bool(value)
    if t == "select" and param.multiple:
        return [v for v in (value or "").split(",") if v]
    if t in ("integer", "float"):
        if value in (None, ""):
            return None
        try:
            return int(value) if t == "integer" else float(value)
        except ValueError:
            raise SubmissionError(f"{param.name}: {value!r} is not a number")
    return value if value is not None else ""


def _fill_nested(inputs, state, el, where):
    for child in el:
        tag = child.tag
        if tag in ("output", "output_collection", "assert_command", "assert_stdout", "assert_stderr",
                   "assert_command_version", "credentials"):
            if where != "test":
                raise ToolError(f"<{tag}> inside <{where}>")
            continue
        name = child.get("name")
        if tag == "param":
            _set_flat(inputs, state, _split_name(name), child, name)
        elif tag == "repeat":
            rep = _find_child(inputs, name)
            if rep is None or rep.kind != "repeat":
                raise ToolError(f"test <repeat name=\"{name}\"> matches no repeat of the tool")
            if not state.get("__repeat_started__" + name):
                state[rep.name] = []
                state["__repeat_started__" + name] = True
            instance = {c.name: c.default() for c in rep.children}
            _fill_nested(rep.children, instance, child, "repeat")
            _strip_markers(instance)
            state[rep.name].append(instance)
        elif tag == "section":
            sec = _find_child(inputs, name)
            if sec is None or sec.kind != "section":
                raise ToolError(f"test <section name=\"{name}\"> matches no section of the tool")
            _fill_nested(sec.children, state[sec.name], child, "section")
            _strip_markers(state[sec.name])
        elif tag == "conditional":
            cond = _find_child(inputs, name)
            if cond is None or cond.kind != "conditional":
                raise ToolError(f"test <conditional name=\"{name}\"> matches no conditional of the tool")
            cond_state = state[cond.name]
            test_el = [p for p in child.findall("param") if p.get("name") == cond.test_param.name]
            if test_el:
                _switch_case(cond, cond_state, raw_value(cond.test_param, test_el[0]))
            case = cond.cases.get(str_value(cond.test_param, cond_state[cond.test_param.name]), [])
            rest = ET_copy_without(child, cond.test_param.name)
            _fill_nested(case, cond_state, rest, "conditional")
            _strip_markers(cond_state)
        else:
            raise ToolError(f"unsupported element <{tag}> in a test")


def ET_copy_without(el, test_name):
    import xml.etree.ElementTree as ET
    out = ET.Element(el.tag, el.attrib)
    for c in el:
        if not (c.tag == "param" and c.get("name") == test_name):
            out.append(c)
    return out


def _strip_markers(state):
    for key in [k for k in state if k.startswith("__repeat_started__")]:
        del state[key]


def state_from_test(tool, test_el):
    state = {p.name: p.default() for p in tool.inputs}
    _fill_nested(tool.inputs, state, test_el, "test")
    _strip_markers(state)
    return state


# ---------------------------------------------------------------- validation

# The tool data tables the value_(not_)in_data_table validators read: name -> gxdm.DataTable.
DATA_TABLES = {}


def _validate_param(param, value, path):
    t = param.type
    label = "|".join(path)
    if t == "select":
        allowed = [v for v, _ in param.options]
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None:
                if not param.optional:
                    raise SubmissionError(f"{label}: a value is required")
            elif v not in allowed:
                raise SubmissionError(f"{label}: {v!r} is not an option ({', '.join(allowed)})")
        return
    if t == "data":
        if value is None and not param.optional:
            raise SubmissionError(f"{label}: a dataset is required")
        return
    if t in ("integer", "float"):
        if value is None:
            if not param.optional:
                raise SubmissionError(f"{label}: a number is required")
            return
        if param.min not in (None, "") and value < float(param.min):
            raise SubmissionError(f"{label}: {value} is below {param.min}")
        if param.max not in (None, "") and value > float(param.max):
            raise SubmissionError(f"{label}: {value} is above {param.max}")
    if value is None or (value == "" and param.optional):
        return  # ToolParameter.validate: an empty optional value skips the validators
    for v in param.validators:
        kind = v.get("type")
        negate = as_bool(v.get("negate"), False)
        message = v.get("message") or f"validator {kind} failed"
        text = "" if value is None else str(value)
        if kind == "regex":
            ok = re.match(v.text or "", text) is not None
        elif kind == "length":
            ok = True
            if v.get("min") is not None and len(text) < int(v.get("min")):
                ok = False
            if v.get("max") is not None and len(text) > int(v.get("max")):
                ok = False
        elif kind == "empty_field":
            ok = text != ""
        elif kind == "in_range":
            num = float(text)
            lo, hi = v.get("min"), v.get("max")
            exclude_min = as_bool(v.get("exclude_min"), False)
            exclude_max = as_bool(v.get("exclude_max"), False)
            ok = True
            if lo is not None:
                ok = ok and (num > float(lo) if exclude_min else num >= float(lo))
            if hi is not None:
                ok = ok and (num < float(hi) if exclude_max else num <= float(hi))
        elif kind in ("value_in_data_table", "value_not_in_data_table"):
            table = DATA_TABLES.get(v.get("table_name"))
            if table is None:
                raise ToolError(f"{label}: validator {kind}: no data table {v.get('table_name')} is loaded")
            column = table.column_index(v.get("metadata_column", "0"))
            present = text in [r[column] for r in table.rows() if len(r) > column]
            ok = present if kind == "value_in_data_table" else not present
        else:
            raise ToolError(f"{label}: validator type {kind} is not supported by this runner")
        if ok == negate:
            raise SubmissionError(f"{label}: {message} (value {text!r})")


def validate_state(inputs, state, path=()):
    for p in inputs:
        value = state.get(p.name)
        if p.kind == "repeat":
            lo, hi = p.el.get("min"), p.el.get("max")
            if lo is not None and len(value) < int(lo):
                raise SubmissionError(f"{p.name}: at least {lo} instances")
            if hi is not None and len(value) > int(hi):
                raise SubmissionError(f"{p.name}: at most {hi} instances")
            for i, inst in enumerate(value):
                validate_state(p.children, inst, path + (f"{p.name}_{i}",))
        elif p.kind == "section":
            validate_state(p.children, value, path + (p.name,))
        elif p.kind == "conditional":
            test_value = value[p.test_param.name]
            _validate_param(p.test_param, test_value, path + (p.name, p.test_param.name))
            case = p.cases.get(str_value(p.test_param, test_value))
            if case is None:
                raise SubmissionError(f"{p.name}: no case for {test_value!r}")
            validate_state(case, value, path + (p.name,))
        else:
            _validate_param(p, value, path + (p.name,))


# ---------------------------------------------------------------- wrappers

class ParamWrapper:
    """InputValueWrapper / SelectToolParameterWrapper."""

    def __init__(self, param, value):
        self.input = param
        self.value = value

    def __str__(self):
        p, v = self.input, self.value
        if p.type == "boolean":
            return p.truevalue if v else p.falsevalue
        if p.type == "select":
            if v in (None, []):
                return "None"
            values = v if isinstance(v, list) else [v]
            values = [self._sanitize(str(x)) for x in values]
            return ",".join(values)
        if v is None:
            return ""
        return self._sanitize(str(v))

    def _sanitize(self, text):
        if self.input.sanitizer is not None:
            return self.input.sanitizer(text)
        return sanitize_default(text)

    def __bool__(self):
        return bool(self.value)

    def __iter__(self):
        if self.input.type == "select" and self.input.multiple:
            return iter([self._sanitize(str(x)) for x in (self.value or [])])
        return iter([str(self)])

    def _cast(self, other):
        p = self.input
        if p.type == "boolean" and isinstance(other, str):
            if other in (p.truevalue, p.falsevalue):
                return str(self), other
            return bool(self), as_bool(other)
        if p.optional and self.value is None:
            return (str(self), other) if isinstance(other, str) else (None, other)
        if p.type == "select":
            return str(self), other
        if p.type == "integer":
            return int(str(self)), other
        if p.type == "float":
            return float(str(self)), other
        if p.type == "boolean":
            return bool(self), other
        return str(self), other

    def __eq__(self, other):
        if self.input.type == "select" and isinstance(other, str):
            if other == "" and self.value in (None, []):
                return True
            return str(self) == other
        a, b = self._cast(other)
        return a == b

    def __ne__(self, other):
        return not self == other

    def __gt__(self, other):
        a, b = self._cast(other)
        return a > b

    def __lt__(self, other):
        a, b = self._cast(other)
        return a < b

    def __int__(self):
        return int(float(str(self)))

    def __float__(self):
        return float(str(self))

    def __add__(self, other):
        return f"{self}{other}"

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return getattr(self.value, key)


class _Metadata:
    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return None

    def __bool__(self):
        return False


class DatasetWrapper:
    """DatasetFilenameWrapper: renders as the path."""

    def __init__(self, path, ext, name, identifier=None, files_path=None, registry=None):
        self._path = path
        self.ext = ext
        self.extension = ext
        self.file_ext = ext
        self.name = name
        self._identifier = identifier
        self.files_path = files_path or (path[:-4] + "_files" if path and path.endswith(".dat") else None)
        self.extra_files_path = self.files_path
        self.metadata = _Metadata()
        self._registry = registry

    @property
    def element_identifier(self):
        return self._identifier if self._identifier is not None else self.name

    @property
    def file_name(self):
        return self._path

    def is_of_type(self, *exts):
        return self.ext in exts

    def __str__(self):
        return self._path

    def __bool__(self):
        return True


class NoneDataset:
    """An absent optional dataset or a filtered-out output."""

    def __init__(self, ext="data"):
        self.ext = ext
        self.metadata = _Metadata()
        self.name = None
        self.element_identifier = None

    def __str__(self):
        return "None"

    def __bool__(self):
        return False

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return None


class EmptyCollection:
    """An output collection while the job runs (its elements are discovered later)."""

    def __bool__(self):
        return False

    def __iter__(self):
        return iter([])

    def keys(self):
        return []


def wrap_state(inputs, state, datasets):
    """The Cheetah view of state; datasets maps id(state dict entry) -> DatasetWrapper."""
    out = {}
    for p in inputs:
        value = state.get(p.name)
        if p.kind == "repeat":
            items = []
            for i, inst in enumerate(value):
                w = wrap_state(p.children, inst, datasets)
                w["__index__"] = i
                items.append(w)
            out[p.name] = items
        elif p.kind == "section":
            out[p.name] = wrap_state(p.children, value, datasets)
        elif p.kind == "conditional":
            test_value = value[p.test_param.name]
            key = str_value(p.test_param, test_value)
            w = wrap_state(p.cases.get(key, []), value, datasets)
            w[p.test_param.name] = ParamWrapper(p.test_param, test_value)
            w["__current_case__"] = list(p.cases).index(key) if key in p.cases else None
            out[p.name] = w
        elif p.type == "data" and p.multiple:
            # Galaxy's DatasetListWrapper: a list (empty when none was given)
            out[p.name] = [datasets[id(value)]] if value is not None else []
        elif p.type == "data":
            out[p.name] = datasets.get(id(value)) if value is not None else NoneDataset(p.formats[0])
        else:
            out[p.name] = ParamWrapper(p, value)
    return out


def fill_template(text, context):
    """galaxy.util.template.fill_template (without the Python 2 retries)."""
    klass = Template.compile(source=text)
    return str(klass(searchList=[context]))


def clean_command(rendered):
    """What ToolEvaluator._build_command_line does after Cheetah: strip lines, join with spaces."""
    lines = [line.strip() for line in rendered.split("\n")]
    return "\n".join(lines).replace("\n", " ").replace("\r", " ").strip()
