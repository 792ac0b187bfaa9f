"""Data managers the way Galaxy runs them: data tables, data_manager_conf.xml, the JSON result.

Galaxy runs a data manager tool (tool_type="manage_data") as an ordinary job whose
output, a data_manager_json dataset, first holds the job's parameters and then the
tool's answer: {"data_tables": {"table": [{column: value, ...}]}}. Galaxy then
(lib/galaxy/tools/data_manager/manager.py, DataManager.process_result) takes each
row, moves files from the output's extra files folder by the <move> rules of
data_manager_conf.xml, rewrites columns by their <value_translation>s, and appends
the row to the table's .loc file. This module does the same on copies of the loc
files, so that a test sees what an admin would get.
"""

import hashlib
import json
import os
import shutil
import xml.etree.ElementTree as ET

from gxparams import fill_template
from gxtool import ToolError, as_bool


class DataManagerFailure(AssertionError):
    pass


class DataTable:
    """One <table> of a tool_data_table_conf.xml: its columns and .loc files."""

    def __init__(self, el, here):
        self.name = el.get("name")
        self.comment_char = el.get("comment_char", "#")
        self.allow_duplicates = as_bool(el.get("allow_duplicate_entries"), True)
        cols = el.find("columns")
        if cols is None or not (cols.text or "").strip():
            raise ToolError(f"data table {self.name}: no <columns>")
        self.columns = [c.strip() for c in cols.text.split(",")]
        self.loc_files = [f.get("path").replace("${__HERE__}", here) for f in el.findall("file")]

    def rows(self):
        rows = []
        for path in self.loc_files:
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    line = line.rstrip("\r\n")
                    if not line or line.startswith(self.comment_char):
                        continue
                    rows.append(line.split("\t"))
        return rows

    def column_index(self, column):
        if str(column).isdigit():
            return int(column)
        if column not in self.columns:
            raise ToolError(f"data table {self.name} has no column {column}")
        return self.columns.index(column)

    def add_row(self, row):
        """TabularToolDataTable.add_entry: the fields in column order, tab-separated, one line."""
        fields = []
        for c in self.columns:
            v = row.get(c)
            if v is None:
                raise DataManagerFailure(f"table {self.name}: the row has no {c}")
            v = str(v)
            if any(ch in v for ch in "\t\n\r"):
                raise DataManagerFailure(f"table {self.name}: column {c} holds a tab or a line break: {v!r}")
            fields.append(v)
        if not self.allow_duplicates and fields in self.rows():
            raise DataManagerFailure(f"table {self.name}: the row is already there and duplicates are not allowed")
        with open(self.loc_files[0], "a", encoding="utf-8") as fh:
            fh.write("\t".join(fields) + "\n")
        return fields


def load_tables(conf_path, copy_to=None):
    """The tables of a tool_data_table_conf.xml; with copy_to, each .loc file is copied
    there first (tests append to copies, never to the checked-in files)."""
    here = os.path.dirname(os.path.abspath(conf_path))
    tables = {}
    for el in ET.parse(conf_path).getroot().findall("table"):
        t = DataTable(el, here)
        if copy_to:
            copies = []
            for i, path in enumerate(t.loc_files):
                dst = os.path.join(copy_to, f"{t.name}.{i}.loc")
                if os.path.exists(path):
                    shutil.copyfile(path, dst)
                else:
                    open(dst, "w").close()
                copies.append(dst)
            t.loc_files = copies
        tables[t.name] = t
    return tables


class Column:
    def __init__(self, el):
        self.name = el.get("name")
        self.output_ref = el.get("output_ref")
        self.moves = []
        for m in el.findall("move"):
            src, tgt = m.find("source"), m.find("target")
            self.moves.append({
                "type": m.get("type", "directory"),
                "relativize_symlinks": as_bool(m.get("relativize_symlinks"), False),
                "source_base": src.get("base") if src is not None else None,
                "source_value": (src.text or "").strip() if src is not None else "",
                "target_base": tgt.get("base") if tgt is not None else None,
                "target_value": (tgt.text or "").strip() if tgt is not None else "",
            })
        self.translations = [(t.get("type", "template"), (t.text or "").strip())
                             for t in el.findall("value_translation")]
        for kind, _ in self.translations:
            if kind not in ("template", "function"):
                raise ToolError(f"value_translation type={kind} is not supported")


class DataManager:
    """One <data_manager> of a data_manager_conf.xml."""

    def __init__(self, conf_path):
        self.dir = os.path.dirname(os.path.abspath(conf_path))
        root = ET.parse(conf_path).getroot()
        dms = root.findall("data_manager")
        if len(dms) != 1:
            raise ToolError(f"{conf_path}: one <data_manager> expected, found {len(dms)}")
        dm = dms[0]
        self.id = dm.get("id")
        self.tool_file = os.path.join(self.dir, dm.get("tool_file"))
        self.tables = {}
        for t in dm.findall("data_table"):
            out = t.find("output")
            self.tables[t.get("name")] = [Column(c) for c in (out.findall("column") if out is not None else [])]

    def process_result(self, json_path, output_extra_paths, data_path, tables):
        """DataManager.process_result: returns the rows added, as lists of fields."""
        try:
            with open(json_path, encoding="utf-8") as fh:
                result = json.load(fh)
        except (OSError, ValueError) as e:
            raise DataManagerFailure(f"the data manager's output is not JSON: {e}")
        data_tables = result.get("data_tables")
        if not isinstance(data_tables, dict):
            raise DataManagerFailure("the data manager's JSON has no data_tables object")
        added = []
        for table_name, rows in data_tables.items():
            if table_name not in self.tables:
                raise DataManagerFailure(f"the JSON names table {table_name}, which data_manager_conf.xml "
                                         "does not declare: Galaxy ignores it")
            if table_name not in tables:
                raise DataManagerFailure(f"no data table {table_name} in the tool data table configuration")
            table = tables[table_name]
            columns = {c.name: c for c in self.tables[table_name]}
            if [c.name for c in self.tables[table_name]] != table.columns:
                raise DataManagerFailure(f"data_manager_conf.xml's columns of {table_name} are not the table's "
                                         f"({', '.join(table.columns)})")
            for row in rows if isinstance(rows, list) else [rows]:
                if set(row) != set(table.columns):
                    raise DataManagerFailure(f"the row's keys {sorted(row)} are not the columns of {table_name}")
                original = {k: str(v) for k, v in row.items()}
                values = dict(original)
                for name in table.columns:
                    col = columns[name]
                    if col.output_ref:
                        if col.output_ref not in output_extra_paths:
                            raise DataManagerFailure(f"column {name}: output_ref {col.output_ref} is no output")
                        self._move(col, output_extra_paths[col.output_ref], data_path, original)
                        values[name] = self._translate(col, data_path, values[name], original)
                added.append(table.add_row(values))
        return added

    @staticmethod
    def _context(data_path, row):
        ctx = dict(row)
        ctx["GALAXY_DATA_MANAGER_DATA_PATH"] = data_path
        return ctx

    def _move(self, col, extra_files_path, data_path, row):
        ctx = self._context(data_path, row)
        for m in col.moves:
            source = fill_template(m["source_base"], ctx).strip() if m["source_base"] else extra_files_path
            if m["source_value"]:
                source = os.path.join(source, fill_template(m["source_value"], ctx).strip())
            target = fill_template(m["target_base"], ctx).strip() if m["target_base"] else data_path
            if m["target_value"]:
                target = os.path.join(target, fill_template(m["target_value"], ctx).strip())
            for what, path, base in (("source", source, extra_files_path), ("target", target, data_path)):
                real, real_base = os.path.realpath(path), os.path.realpath(base)
                if real != real_base and not real.startswith(real_base + os.sep):
                    raise DataManagerFailure(f"move {what} {path} leaves {base}")
            if not os.path.exists(source):
                raise DataManagerFailure(f"move: the source {source} does not exist")
            if m["type"] == "file":
                os.makedirs(os.path.dirname(target), exist_ok=True)
            _move_merge(source, target)
            if m["relativize_symlinks"]:
                _relativize_symlinks(target)

    def _translate(self, col, data_path, value, row):
        for kind, text in col.translations:
            if kind == "function":
                if text != "abspath":
                    raise ToolError(f"value_translation function {text} is not supported")
                value = os.path.abspath(value)
            else:
                ctx = self._context(data_path, row)
                ctx[col.name] = value
                value = fill_template(text, ctx).strip()
        return value


def _move_merge(source, target):
    """galaxy.util.move_merge: a directory merges into an existing one."""
    if os.path.isdir(source) and os.path.isdir(target):
        for name in os.listdir(source):
            _move_merge(os.path.join(source, name), os.path.join(target, name))
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.move(source, target)


def _relativize_symlinks(path):
    """galaxy.util.relativize_symlinks: absolute links inside become relative."""
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(root, name)
            if os.path.islink(p):
                link = os.readlink(p)
                if os.path.isabs(link):
                    os.unlink(p)
                    os.symlink(os.path.relpath(link, root), p)


def verify_huggingface_row(table, fields):
    """A huggingface row as tools will read it: the path exists; the manifest kept beside
    the Hub cache lists the commit, and every file of it is in the snapshot folder of that
    commit with the size and SHA-256 recorded. Returns the manifest."""
    row = dict(zip(table.columns, fields))
    path = row["path"]
    if not os.path.isabs(path) or not os.path.exists(path):
        raise DataManagerFailure(f"row {row['value']}: path {path} does not exist")
    value_dir = path
    while os.path.basename(value_dir) != row["value"]:
        parent = os.path.dirname(value_dir)
        if parent == value_dir:
            raise DataManagerFailure(f"row {row['value']}: path {path} is not below a folder named by the value")
        value_dir = parent
    manifest_path = os.path.join(value_dir, "manifest.json")
    if not os.path.isfile(manifest_path):
        raise DataManagerFailure(f"row {row['value']}: no manifest.json beside the cache ({value_dir})")
    with open(manifest_path, encoding="utf-8") as fh:
        manifest = json.load(fh)
    commit = manifest["commit"]
    if f"@{commit})" not in row["name"]:
        raise DataManagerFailure(f"row {row['value']}: the name does not end with the commit {commit}")
    repo_dir = manifest["repo_type"] + "s--" + manifest["repo_id"].replace("/", "--")
    snapshot = os.path.join(value_dir, "hub", repo_dir, "snapshots", commit)
    if path not in (os.path.join(value_dir, "hub"), snapshot):
        raise DataManagerFailure(f"row {row['value']}: path {path} is neither the cache root nor the snapshot")
    if not manifest.get("files"):
        raise DataManagerFailure(f"row {row['value']}: the manifest lists no file")
    for f in manifest["files"]:
        p = os.path.join(snapshot, f["path"])
        if not os.path.isfile(p):
            raise DataManagerFailure(f"row {row['value']}: {f['path']} is missing from the snapshot")
        with open(p, "rb") as fh:
            data = fh.read()
        if len(data) != f["size"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
            raise DataManagerFailure(f"row {row['value']}: {f['path']} does not match its manifest entry")
    return manifest
