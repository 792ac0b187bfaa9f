#!/usr/bin/python3
"""Runs the <tests> of Galaxy tool wrappers the way Galaxy runs them, without a Galaxy.

For every tool XML: expand the macros, validate the expanded XML against
galaxy.xsd (xmllint), check the help's reStructuredText and the declared
datatypes. For every test of the selected tools: build the tool state from the
test, validate it (validators reject before any job runs), render configfiles
and the command with Cheetah and Galaxy's parameter wrappers, run it with bash
(set -e) in a fresh job folder with a clean environment (PATH, HOME and TMPDIR
in the job folder, GALAXY_SLOTS, HF_ENDPOINT of the fixture Hub, the test's
credentials), apply <stdio>, collect outputs and discovered datasets, and check
everything the test asserts. Anything this runner cannot interpret fails.

Usage: gxrun.py [--xml-dir tool_xml --bin-dir bin | --tool-dir DIR] [--tools hf_list,...]
                [--test-data test-data] [--endpoint URL] [-k FILTER] [-v] [--keep]
Prints one line per check and ends with "N passed, N failed"; exits 1 on any failure.
"""

import argparse
import glob
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gxtool import Tool, ToolError, as_bool, check_help_rst, str_value, validate_schema  # noqa: E402
from gxparams import (DatasetWrapper, EmptyCollection, NoneDataset, SubmissionError,  # noqa: E402
                      clean_command, fill_template, state_from_test, validate_state, wrap_state)
from gxverify import verify_collection, verify_dataset, verify_assertions  # noqa: E402
import gxdm  # noqa: E402
import gxparams  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
SCHEMA_DIR = os.path.join(HERE, "schema")  # vendored: see schema/SOURCE.md

NAMED_PATTERNS = {
    "__default__": r"primary_DATASET_ID_(?P<designation>[^_]+)_(?P<visible>[^_]+)_(?P<ext>[^_]+)(_(?P<dbkey>[^_]+))?",
    "__name__": r"(?P<name>.*)",
    "__designation__": r"(?P<designation>.*)",
    "__name_and_ext__": r"(?P<name>.*)\.(?P<ext>[^\.]+)?",
    "__designation_and_ext__": r"(?P<designation>.*)\.(?P<ext>[^\._]+)?",
}

LEVELS = {"log": 1, "qc": 1.1, "warning": 2, "fatal": 3, "fatal_oom": 4}
LEVEL_DESC = {1: "Log", 1.1: "QC", 2: "Warning", 3: "Fatal error", 4: "Out of memory error"}
FATAL, MAX_LEVEL = 3, 4

TEST_ATTRS = {"expect_exit_code", "expect_num_outputs", "expect_failure", "expect_test_failure",
              "maxseconds"}
PASSTHROUGH_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


class TestFailure(AssertionError):
    pass


# ---------------------------------------------------------------- stdio

def _range(text):
    text = (text or "").strip()
    if ":" in text:
        lo, hi = text.split(":", 1)
        return (int(lo) if lo.strip() else float("-inf"), int(hi) if hi.strip() else float("inf"))
    return (int(text), int(text))


def exit_code_rules(tool):
    cmd = tool.command_el
    detect = cmd.get("detect_errors") if cmd is not None else None
    rules = []
    if tool.stdio is not None:
        for el in tool.stdio:
            if el.tag == "exit_code":
                lo, hi = _range(el.get("range"))
                rules.append((lo, hi, LEVELS[el.get("level", "fatal")], el.get("description")))
            elif el.tag == "regex":
                raise ToolError("<stdio><regex> is not supported by this runner")
            else:
                raise ToolError(f"<stdio><{el.tag}> is not supported")
    if detect and detect != "default":
        if detect != "exit_code":
            raise ToolError(f"detect_errors={detect} is not supported by this runner")
        oom = cmd.get("oom_exit_code")
        if oom is not None:
            rules.append((int(oom), int(oom), LEVELS["fatal_oom"], None))
        rules += [(float("-inf"), -1, FATAL, None), (1, float("inf"), FATAL, None)]
    elif tool.stdio is None:
        if not tool.profile_at_least("16.04"):
            raise ToolError("legacy tools (profile < 16.04, stderr means failure) are not supported")
        rules += [(float("-inf"), -1, FATAL, None), (1, float("inf"), FATAL, None)]
    return rules


def apply_stdio(rules, exit_code):
    """Job messages and whether the job failed (lib/galaxy/tool_util/output_checker.py)."""
    messages, level = [], 0
    for lo, hi, lvl, desc in rules:
        if lo <= exit_code <= hi:
            messages.append(f"{LEVEL_DESC[lvl]}: Exit code {exit_code} ({desc or ''})")
            level = max(level, lvl)
            if level >= MAX_LEVEL:
                break
    return messages, level >= FATAL


# ---------------------------------------------------------------- discovery

def _in_directory(path, directory):
    path, directory = os.path.realpath(path), os.path.realpath(directory)
    return path == directory or path.startswith(directory + os.sep)


def discover(output, working, datatypes):
    """Elements of a dynamic output collection: [{identifier, path, ext, name}] in Galaxy's order."""
    elements = []
    for d in output.discover:
        unknown = set(d) - {"pattern", "directory", "sort_by", "format", "ext", "visible", "recurse",
                            "match_relative_path", "discover_via", "from_provided_metadata"}
        if unknown:
            raise ToolError(f"discover_datasets: attributes {sorted(unknown)} are not supported")
        directory = os.path.join(working, d["directory"]) if d.get("directory") else working
        if not _in_directory(directory, working):
            raise ToolError("discover_datasets directory outside the working directory")
        default_ext = d.get("ext") or d.get("format") or "data"
        via = d.get("discover_via") or ("tool_provided_metadata" if as_bool(d.get("from_provided_metadata"))
                                        else "pattern")
        if via == "tool_provided_metadata":
            meta_path = os.path.join(working, "galaxy.json")
            if not os.path.exists(meta_path):
                continue
            with open(meta_path) as fh:
                meta = json.load(fh)
            if meta.get("type") in ("dataset", "new_primary_dataset"):
                raise ToolError("legacy galaxy.json (one object a line) is not supported")
            entries = meta.get(output.name, {}).get("datasets") or []
            if not entries and meta.get(output.name, {}).get("elements"):
                raise ToolError("galaxy.json 'elements' are not supported by this runner")
            for e in entries:
                path = os.path.join(directory, e["filename"])
                if not _in_directory(path, directory):
                    raise ToolError("galaxy.json names a file outside the discovery directory")
                ident = e.get("identifier_0") or e.get("designation") or e.get("name")
                elements.append({"identifier": ident, "path": path, "ext": e.get("ext", default_ext),
                                 "name": e.get("name") or ident, "info": e.get("info")})
            continue
        pattern = d.get("pattern", "__default__")
        pattern = NAMED_PATTERNS.get(pattern, pattern)
        if "DATASET_ID" in pattern:
            raise ToolError("DATASET_ID patterns are not supported by this runner")
        sort_by = d.get("sort_by", "filename")
        reverse = sort_by.startswith("reverse_")
        sort_by = sort_by[len("reverse_"):] if reverse else sort_by
        comp = "lexical"
        if "_" in sort_by:
            comp, sort_by = sort_by.split("_", 1)
        recurse = as_bool(d.get("recurse"), False)
        relative = as_bool(d.get("match_relative_path"), False)
        matches = []

        def walk(current, parents):
            if not os.path.isdir(current):
                return
            for fn in os.listdir(current):
                path = os.path.join(current, fn)
                if os.path.isdir(path):
                    if recurse:
                        walk(path, parents + [fn])
                    continue
                name = os.path.join(*parents, fn) if (relative and parents) else fn
                m = re.match(pattern, name)
                if m:
                    g = m.groupdict()
                    ident = g.get("designation") or g.get("name")
                    matches.append({"filename": name, "designation": ident, "name": g.get("name") or ident,
                                    "dbkey": g.get("dbkey") or "?", "identifier": ident, "path": path,
                                    "ext": (g.get("ext") or default_ext).lower(), "info": None})
        walk(directory, [])
        key = (lambda m: int(m[sort_by])) if comp == "numeric" else (lambda m: m[sort_by] or "")
        elements += sorted(matches, key=key, reverse=reverse)
    seen = set()
    for e in elements:
        if not e["identifier"]:
            raise TestFailure(f"discovered file {e['path']} has no identifier")
        if e["identifier"] in seen:
            raise TestFailure(f"two discovered datasets have the identifier {e['identifier']!r}")
        seen.add(e["identifier"])
        if e["ext"] not in datatypes:
            raise TestFailure(f"discovered {e['identifier']!r} with datatype {e['ext']!r}, unknown to Galaxy")
    return elements


# ---------------------------------------------------------------- one test

class ToolObject:
    def __init__(self, tool):
        self.id, self.name, self.version = tool.id, tool.name, tool.version


def output_ext(output, context):
    ext = output.format
    for check, value, fmt in output.change_format:
        expr = check if "$" in check else "${%s}" % check
        try:
            if fill_template(expr, context) == value:
                ext = fmt
        except Exception:
            continue
    return ext


def passes_filters(output, state):
    for f in output.filters:
        try:
            if not eval(f, {}, dict(state)):
                return False
        except Exception:
            pass
    return True


def credentials_env(tool, test_el):
    env = {}
    for cred_el in test_el.findall("credentials"):
        service = cred_el.get("name")
        match = [c for c in tool.credentials if c[0] == service]
        if not match:
            raise ToolError(f"test credentials for {service}, which the tool does not declare")
        _, secrets, variables = match[0]
        given = {("secret", s.get("name")): s.get("value", "") for s in cred_el.findall("secret")}
        given.update({("variable", v.get("name")): v.get("value", "") for v in cred_el.findall("variable")})
        known = {("secret", n) for n, _ in secrets} | {("variable", n) for n, _ in variables}
        if set(given) - known:
            raise ToolError(f"test credentials {sorted(set(given) - known)} not declared by the tool")
        for name, inject in secrets:
            env[inject] = given.get(("secret", name), "")
        for name, inject in variables:
            env[inject] = given.get(("variable", name), "")
    return env


class Runner:
    def __init__(self, args, tool_dir, datatypes, endpoint):
        self.args = args
        self.tool_dir = tool_dir
        self.datatypes = datatypes
        self.endpoint = endpoint
        self.test_data = os.path.abspath(args.test_data)
        self.jobs_root = tempfile.mkdtemp(prefix="gxrun-jobs-")

    def cleanup(self):
        if not self.args.keep:
            shutil.rmtree(self.jobs_root, ignore_errors=True)

    def run_test(self, tool, index, test_el):
        """Returns (passed, message, details)."""
        unknown = set(test_el.attrib) - TEST_ATTRS
        if unknown:
            raise ToolError(f"test attributes {sorted(unknown)} are not supported")
        expect_failure = as_bool(test_el.get("expect_failure"), False)
        expect_test_failure = as_bool(test_el.get("expect_test_failure"), False)
        try:
            problems, details = self._run(tool, index, test_el, expect_failure)
        except TestFailure as e:
            problems, details = [str(e)], ""
        if expect_test_failure:
            if problems:
                return True, "failed as the test expects: " + problems[0].splitlines()[0], details
            return False, "Expected job to miss at least one test assumption but all were met.", details
        return (not problems), "\n".join(problems), details

    def _run(self, tool, index, test_el, expect_failure):
        state = state_from_test(tool, test_el)
        cred_env = credentials_env(tool, test_el)
        job = os.path.join(self.jobs_root, f"{tool.id}-{index}")
        dm = getattr(tool, "data_manager", None)
        if dm is not None:
            # Galaxy's test framework loads tool_data_table_conf.xml.test: the tables the
            # validators see and the .loc files rows are added to (copies, per test).
            os.makedirs(os.path.join(job, "tool-data", "dm-data"))
            tables = gxdm.load_tables(tool.data_table_conf, copy_to=os.path.join(job, "tool-data"))
            gxparams.DATA_TABLES.clear()
            gxparams.DATA_TABLES.update(tables)
        try:
            validate_state(tool.inputs, state)
        except SubmissionError as e:
            if tool.profile_at_least("24.2"):
                # parse_tool_test_descriptions validates test parameters when it loads tests of
                # profile >= 24.2 (validators included): the test is in error, whatever it expects.
                raise ToolError(f"invalid test parameters (Galaxy validates them on load from profile 24.2): {e}")
            if expect_failure:
                return [], f"refused at submission, as expected: {e}"
            return [f"Galaxy would refuse the job: {e}"], ""

        working = os.path.join(job, "working")
        test_data = getattr(tool, "test_data", self.test_data)
        for sub in ("working", "outputs", "configs", "home", "tmp", "inputs", "files"):
            os.makedirs(os.path.join(job, sub))

        # Inputs: each test dataset is uploaded (a copy under a Galaxy-like name).
        datasets = {}
        hid = [0]

        def stage(values):
            for key, value in list(values.items()) if isinstance(values, dict) else []:
                if isinstance(value, dict) and "file" in value and "ftype" in value:
                    src = os.path.join(test_data, value["file"])
                    if not os.path.isfile(src):
                        raise ToolError(f"test-data file {value['file']} not found")
                    if not value.get("ftype"):
                        raise ToolError(f"test dataset {value['file']}: give ftype= (this runner does not sniff)")
                    if value["ftype"] not in self.datatypes:
                        raise ToolError(f"test dataset {value['file']}: unknown datatype {value['ftype']}")
                    hid[0] += 1
                    dst = os.path.join(job, "inputs", f"dataset_{uuid.uuid4()}.dat")
                    shutil.copyfile(src, dst)
                    datasets[id(value)] = DatasetWrapper(dst, value["ftype"], os.path.basename(value["file"]))
                    value["__hid__"] = hid[0]
                elif isinstance(value, dict):
                    stage(value)
                elif isinstance(value, list):
                    for item in value:
                        stage(item)
        stage(state)
        self._check_input_formats(tool.inputs, state, datasets)

        wrapped = wrap_state(tool.inputs, state, datasets)
        on_string = ", ".join(f"data {d['__hid__']}" for d in _walk_datasets(state))
        context = dict(wrapped)
        context.update(tool.templates)

        # Outputs: filters decide which exist; change_format their datatype.
        created = {}
        for out in tool.outputs:
            if out.kind == "data" and out.discover:
                raise ToolError(f"output {out.name}: discovered primary datasets are not supported")
            if not passes_filters(out, _raw(state)):
                if out.kind == "data":
                    context[out.name] = NoneDataset(out.format)
                continue
            if out.kind == "data":
                path = os.path.join(job, "files", f"dataset_{uuid.uuid4()}.dat")
                ext = output_ext(out, context)
                if ext not in self.datatypes:
                    raise TestFailure(f"output {out.name}: datatype {ext} unknown to Galaxy")
                created[out.name] = {"kind": "data", "path": path, "ext": ext, "files_path": path[:-4] + "_files"}
                context[out.name] = DatasetWrapper(path, ext, out.name, files_path=path[:-4] + "_files")
                if dm is not None and ext == "data_manager_json":
                    write_data_manager_params(path, out.name, created[out.name], _raw(state), job)
            else:
                created[out.name] = {"kind": "collection", "type": out.collection_type}
                context[out.name] = EmptyCollection()
        context.update({
            "__tool_directory__": getattr(tool, "tool_dir", self.tool_dir),
            "__new_file_path__": os.path.join(job, "tmp"),
            "__root_dir__": self.tool_dir,
            "__user_id__": "1", "__user_email__": "tester@example.org", "__user_name__": "tester",
            "__galaxy_url__": "http://localhost:8080", "__app__": None,
        })

        for name, filename, content in tool.configfiles:
            if filename:
                raise ToolError("configfile filename= is not supported by this runner")
            fd, path = tempfile.mkstemp(dir=os.path.join(job, "configs"))
            os.close(fd)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(fill_template(content, context))
            context[name] = path

        command = clean_command(fill_template(tool.command, context))

        label_context = dict(wrapped)
        label_context.update({"tool": ToolObject(tool), "on_string": on_string})
        labels = {}
        for out in tool.outputs:
            if out.name in created and out.label:
                try:
                    labels[out.name] = fill_template(out.label, label_context)
                except Exception as e:
                    raise TestFailure(f"label of output {out.name} does not render: {e}")

        script = os.path.join(job, "tool_script.sh")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write("#!/bin/bash\n" + ("set -e\n" if tool.profile_at_least("20.09") else "") + command + "\n")
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": os.path.join(job, "home"),
            "TMPDIR": os.path.join(job, "tmp"), "TMP": os.path.join(job, "tmp"),
            "TEMP": os.path.join(job, "tmp"),
            "GALAXY_SLOTS": str(self.args.slots), "GALAXY_MEMORY_MB": "4096",
        }
        if self.endpoint:
            env["HF_ENDPOINT"] = self.endpoint
        for kv in self.args.job_env:
            k, _, v = kv.partition("=")
            env[k] = v
        for k in PASSTHROUGH_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        for ev in tool.env_vars:
            if ev.get("inject"):
                raise ToolError("environment_variable inject= is not supported")
            env[ev.get("name")] = fill_template(ev.text or "", context)
        env.update(cred_env)

        version_output = None
        if tool.version_command:
            version_output = run_version_command(tool, getattr(tool, "tool_dir", self.tool_dir), working, env)
            version_path = os.path.join(job, "outputs", "COMMAND_VERSION")
            with open(version_path, "w", encoding="utf-8") as fh:
                fh.write(version_output)

        stdout_path = os.path.join(job, "outputs", "tool_stdout")
        stderr_path = os.path.join(job, "outputs", "tool_stderr")
        timeout = int(test_el.get("maxseconds") or self.args.maxseconds)
        started = time.time()
        with open(stdout_path, "wb") as so, open(stderr_path, "wb") as se:
            try:
                proc = subprocess.run(["/bin/bash", script], cwd=working, env=env, stdout=so, stderr=se,
                                      stdin=subprocess.DEVNULL, timeout=timeout)
                exit_code = proc.returncode
            except subprocess.TimeoutExpired:
                raise TestFailure(f"job still running after {timeout} s")
        elapsed = time.time() - started
        stdout = open(stdout_path, "rb").read().decode("utf-8", "replace")
        stderr = open(stderr_path, "rb").read().decode("utf-8", "replace")
        messages, failed = apply_stdio(exit_code_rules(tool), exit_code)

        problems = []
        details = [f"job folder: {job}", f"command: {command}", f"exit code: {exit_code} ({elapsed:.1f} s)"]
        if messages:
            details.append("job messages: " + " | ".join(messages))
        info = (stdout.strip() + "\n" + stderr.strip()).strip()
        details.append("info of the outputs: " + info.replace("\n", " | ")[:600])
        for name, label in labels.items():
            details.append(f"output {name}: \"{label}\" ({created[name].get('ext', created[name].get('type'))})")

        # Outputs after the job.
        collections = {}
        if not failed:
            for out in tool.outputs:
                c = created.get(out.name)
                if c is None:
                    continue
                if c["kind"] == "data" and not os.path.exists(c["path"]):
                    open(c["path"], "wb").close()
                if c["kind"] == "collection":
                    try:
                        c["elements"] = discover(out, working, self.datatypes)
                    except TestFailure as e:
                        failed = True
                        problems.append(f"output collection {out.name}: {e}")
                        continue
                    collections[out.name] = c
                    details.append(f"collection {out.name}: " + ", ".join(
                        f"{e['identifier']} ({e['ext']})" for e in c["elements"]))

        outputs = test_el.findall("output")
        output_collections = test_el.findall("output_collection")
        if expect_failure and (outputs or output_collections):
            raise ToolError("Cannot specify outputs in a test expecting failure.")

        expected_n = test_el.get("expect_num_outputs")
        if expected_n is not None and int(expected_n) != len(created):
            problems.append(f"Incorrect number of outputs - expected {expected_n}, found {len(created)} "
                            f"({', '.join(created)})")
        if not failed and expect_failure:
            problems.append("Expected job to fail but Galaxy indicated the job successfully completed.")
        if failed and not expect_failure:
            problems.append(f"Job failed (exit code {exit_code}): " + " | ".join(messages))
        if test_el.get("expect_exit_code") is not None and str(test_el.get("expect_exit_code")) != str(exit_code):
            problems.append(f"Expected job to complete with exit code {test_el.get('expect_exit_code')}, "
                            f"found {exit_code}")

        for out_el in outputs:
            name = out_el.get("name")
            c = created.get(name)
            if c is None or c["kind"] != "data":
                problems.append(f"Failed to find output [{name}], tool outputs include [{', '.join(created)}]")
                continue
            try:
                attrs = {k: v for k, v in out_el.attrib.items() if k != "name"}
                verify_dataset(f"Output {name}", c["path"], c["ext"], attrs, list(out_el), test_data)
            except AssertionError as e:
                problems.append(str(e))

        stderr_prefix = "".join(m + "\n" for m in messages)
        for tag, data in (("assert_command", command), ("assert_stdout", stdout),
                          ("assert_stderr", stderr_prefix + stderr)):
            for el in test_el.findall(tag):
                try:
                    verify_assertions(data.encode("utf-8"), list(el))
                except AssertionError as e:
                    what = {"assert_command": "Command produced by the job",
                            "assert_stdout": "Standard output of the job",
                            "assert_stderr": "Standard error of the job"}[tag]
                    problems.append(f"{what} different than expected\n{e}")
        for el in test_el.findall("assert_command_version"):
            if version_output is None:
                raise ToolError("assert_command_version without a <version_command>")
            try:
                verify_assertions(version_output.encode("utf-8"), list(el))
            except AssertionError as e:
                problems.append(f"Command version different than expected\n{e}")

        for coll_el in output_collections:
            name = coll_el.get("name")
            if name not in collections:
                problems.append(f"Failed to find output [{name}], tool outputs include [{', '.join(collections)}]")
                continue
            try:
                verify_collection(f"Output collection {name}", coll_el, collections[name], test_data)
            except AssertionError as e:
                problems.append(str(e))

        if dm is not None and not failed and not expect_failure:
            problems += self._process_data_manager(dm, created, details)

        # What a workflow connects to the next steps (tests/galaxy/gxworkflow.py).
        self.last_outputs = {"created": created, "collections": collections, "failed": failed,
                             "exit_code": exit_code}
        if problems:
            details.append("---- stdout ----\n" + stdout[-2000:] + "---- stderr ----\n" + stderr[-3000:])
        return problems, "\n".join(details)

    def _process_data_manager(self, dm, created, details):
        """What Galaxy does with a data manager's answer: files moved by data_manager_conf.xml,
        rows added to the .loc files; then each huggingface row checked as a tool reads it."""
        tables = gxparams.DATA_TABLES
        data_path = os.path.join(os.path.dirname(next(iter(tables.values())).loc_files[0]), "dm-data")
        extra = {name: c["files_path"] for name, c in created.items() if c["kind"] == "data"}
        problems = []
        for name, c in created.items():
            if c.get("ext") != "data_manager_json":
                continue
            try:
                rows = dm.process_result(c["path"], extra, data_path, tables)
                if len(rows) != 1:
                    raise gxdm.DataManagerFailure(f"{len(rows)} rows added, one expected")
                for fields in rows:
                    details.append("row added: " + " | ".join(fields))
                    if "huggingface" in tables and fields in tables["huggingface"].rows():
                        manifest = gxdm.verify_huggingface_row(tables["huggingface"], fields)
                        details.append(f"row verified: {len(manifest['files'])} files of commit "
                                       f"{manifest['commit']} match the manifest")
            except gxdm.DataManagerFailure as e:
                problems.append(f"data manager {dm.id}: {e}")
        return problems

    def _check_input_formats(self, inputs, state, datasets):
        for p in inputs:
            value = state.get(p.name)
            if p.kind == "repeat":
                for inst in value:
                    self._check_input_formats(p.children, inst, datasets)
            elif p.kind == "section":
                self._check_input_formats(p.children, value, datasets)
            elif p.kind == "conditional":
                # the active case only: the others' parameters are not in the state
                case = p.cases.get(str_value(p.test_param, value[p.test_param.name]), [])
                self._check_input_formats(case, value, datasets)
            elif p.type == "data" and isinstance(value, dict) and "ftype" in value:
                if "data" not in p.formats and value["ftype"] not in p.formats:
                    raise SubmissionError(f"{p.name}: datatype {value['ftype']} is not one of {p.formats}")


def _walk_datasets(state):
    if isinstance(state, dict):
        if "file" in state and "ftype" in state:
            yield state
            return
        for v in state.values():
            yield from _walk_datasets(v)
    elif isinstance(state, list):
        for v in state:
            yield from _walk_datasets(v)


def _raw(state):
    """The raw values a <filter> sees: dataset dicts become their file name."""
    if isinstance(state, dict):
        if "file" in state and "ftype" in state:
            return state["file"]
        return {k: _raw(v) for k, v in state.items() if not k.startswith("__")}
    if isinstance(state, list):
        return [_raw(v) for v in state]
    return state


# ---------------------------------------------------------------- main

def test_data_files(tool):
    """The test-data files the tests of tool read: dataset inputs and expected outputs."""
    files = set()
    data_params = set()

    def walk(inputs):
        for p in inputs:
            if p.kind in ("repeat", "section"):
                walk(p.children)
            elif p.kind == "conditional":
                for case in p.cases.values():
                    walk(case)
            elif p.type == "data":
                data_params.add(p.name)
    walk(tool.inputs)
    for test in tool.tests:
        for el in test.iter():
            if el.tag == "param" and el.get("name", "").split("|")[-1] in data_params and el.get("value"):
                files.update(v for v in el.get("value").split(",") if v)
            elif el.tag in ("output", "element") and (el.get("file") or el.get("value")):
                files.add(el.get("file") or el.get("value"))
    return files


def load_datatypes(path):
    with open(path) as fh:
        return {l.strip() for l in fh if l.strip() and not l.startswith("#")}


def write_data_manager_params(path, name, created, params, job):
    """DataManagerTool.exec_before_job: the output first holds the job's parameters."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"param_dict": params,
                   "output_data": [{"out_data_name": name, "ext": created["ext"], "file_name": path,
                                    "extra_files_path": created["files_path"]}],
                   "job_config": {"GALAXY_DATA_INDEX_DIR": os.path.join(job, "tool-data"),
                                  "GALAXY_ROOT_DIR": job}}, fh)


def run_version_command(tool, tool_dir, working, env):
    """What Galaxy records as the tool's version: <version_command> with $__tool_directory__
    substituted (string.Template, as ToolEvaluator._build_version_command), run by the job
    script in the working directory before the tool script, stdout and stderr together."""
    command = string.Template(tool.version_command).safe_substitute({"__tool_directory__": tool_dir})
    proc = subprocess.run(["/bin/bash", "-c", command], cwd=working, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return proc.stdout.decode("utf-8", "replace")


DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
BIBTEX_RE = re.compile(r"^\s*@(misc|software|article|inproceedings|manual|book|techreport)\s*\{\s*[^,\s]+\s*,", re.I)


def citation_problems(tool):
    """Every citation resolves: a DOI of the right shape, or a BibTeX entry with its fields."""
    cits = tool.root.findall("citations/citation")
    if not cits:
        return ["no <citations>: cite the software (a DOI or a BibTeX entry)"]
    problems = []
    for c in cits:
        text = (c.text or "").strip()
        if c.get("type") == "doi":
            if not DOI_RE.match(text):
                problems.append(f"citation: {text!r} is not a DOI (10.NNNN/...)")
        elif c.get("type") == "bibtex":
            fields = set(re.findall(r"(\w+)\s*=\s*[{\"\d]", text))
            if not BIBTEX_RE.match(text) or text.count("{") != text.count("}"):
                problems.append("citation: the BibTeX entry does not parse (@type{key, ...} with balanced braces)")
            for need in ("title", "author", "year"):
                if need not in {k.lower() for k in fields}:
                    problems.append(f"citation: the BibTeX entry has no {need}")
            if "url" not in {k.lower() for k in fields} and "\\url{" not in text and "doi" not in {k.lower() for k in fields}:
                problems.append("citation: the BibTeX entry names no url nor doi")
        else:
            problems.append(f"citation type {c.get('type')!r} is neither doi nor bibtex")
    return problems


def suite_problems(tool, profile_floor, tool_dir=None):
    """The suite's own rules: the profile is the supported floor, the binary's version is
    recorded (<version_command>, and what it prints names the tool's version), citations."""
    problems = []
    if tool.profile != profile_floor:
        problems.append(f"profile {tool.profile} is not the suite's floor {profile_floor} "
                        "(README: which Galaxy; mk/galaxy.mk GALAXY_PROFILE_FLOOR)")
    if not tool.version_command:
        problems.append("no <version_command>")
    elif tool_dir:
        upstream = (tool.version or "").split("+galaxy")[0]
        with tempfile.TemporaryDirectory(prefix="gxrun-version-") as d:
            out = run_version_command(tool, tool_dir, d, {"PATH": "/usr/bin:/bin", "HOME": d})
        if not re.search(r"(^|\s)%s(\s|$)" % re.escape(upstream), out):
            problems.append(f"<version_command> prints {out.strip()!r}, not the tool version {upstream}")
    problems += citation_problems(tool)
    return problems


def lint(tool, datatypes):
    problems = []
    for out in tool.outputs:
        formats = [out.format] if out.kind == "data" else []
        formats += [f for _, _, f in out.change_format]
        formats += [d.get("format") or d.get("ext") for d in out.discover if d.get("format") or d.get("ext")]
        for f in formats:
            if f not in datatypes:
                problems.append(f"output {out.name}: datatype {f} is not in datatypes.txt")

    def walk(inputs):
        for p in inputs:
            if p.kind in ("repeat", "section"):
                walk(p.children)
            elif p.kind == "conditional":
                for case in p.cases.values():
                    walk(case)
            elif p.type == "data":
                for f in p.formats:
                    if f not in datatypes:
                        problems.append(f"input {p.name}: datatype {f} is not in datatypes.txt")
    walk(tool.inputs)
    rst = check_help_rst(tool.root)
    if rst:
        problems += [f"help: {l}" for l in rst]
    return problems


def start_hub(args):
    if args.endpoint:
        return args.endpoint, None
    sys.path.insert(0, os.path.join(REPO, "tests", "hub"))
    from hub import FixtureHub  # noqa: E402
    hub = FixtureHub()
    hub.start()
    return hub.endpoint, hub


def load_data_manager(dm_dir, args, datatypes):
    """A data manager folder: its tool staged with its macros and the hf-* binaries (from the
    folder itself, as make shed ships them, else --bin-dir), the tables its tests use, and
    the checks of the layout the Tool Shed and Galaxy expect. Returns (tool, staged, problems)."""
    dm_dir = os.path.abspath(dm_dir)
    conf = os.path.join(dm_dir, "data_manager_conf.xml")
    dm = gxdm.DataManager(conf)
    problems = []
    tool_src = os.path.dirname(dm.tool_file)
    staged = tempfile.mkdtemp(prefix="gxrun-dm-")
    for f in glob.glob(os.path.join(tool_src, "*.xml")):
        shutil.copyfile(f, os.path.join(staged, os.path.basename(f)))  # follows links (macros.xml)
    binaries = glob.glob(os.path.join(tool_src, "hf-*")) or glob.glob(os.path.join(args.bin_dir, "hf-*"))
    for b in binaries:
        if os.path.isfile(b):
            shutil.copy(b, staged)
    tool = Tool(os.path.join(staged, os.path.basename(dm.tool_file)))
    tool.tool_dir = staged
    tool.data_manager = dm
    tool.test_data = os.path.join(dm_dir, "test-data")
    if tool.root.get("tool_type") != "manage_data":
        problems.append("the data manager's tool is not tool_type=\"manage_data\"")
    if tool.id != dm.id:
        problems.append(f"data_manager_conf.xml id {dm.id} is not the tool id {tool.id}")
    outputs = {o.name: o for o in tool.outputs}
    sample = os.path.join(dm_dir, "tool_data_table_conf.xml.sample")
    test_conf = os.path.join(dm_dir, "tool_data_table_conf.xml.test")
    tool.data_table_conf = test_conf if os.path.exists(test_conf) else sample
    if not os.path.exists(sample):
        problems.append("no tool_data_table_conf.xml.sample")
        return tool, staged, problems
    sample_tables = gxdm.load_tables(sample)
    for table_name, columns in dm.tables.items():
        for c in columns:
            if c.output_ref and (c.output_ref not in outputs or outputs[c.output_ref].format != "data_manager_json"):
                problems.append(f"column {c.name}: output_ref {c.output_ref} is not a data_manager_json output")
        t = sample_tables.get(table_name)
        if t is None:
            problems.append(f"tool_data_table_conf.xml.sample has no table {table_name}")
            continue
        if [c.name for c in columns] != t.columns:
            problems.append(f"data_manager_conf.xml's columns of {table_name} are not those of the sample table")
        for loc in t.loc_files:
            loc_sample = os.path.join(dm_dir, loc) + ".sample"  # relative: to the shed repository
            if not os.path.exists(loc_sample):
                problems.append(f"no {os.path.relpath(loc_sample, dm_dir)} for table {table_name}")
                continue
            with open(loc_sample, encoding="utf-8") as fh:
                for line in fh:
                    body = line.rstrip("\n").lstrip(t.comment_char)
                    if "\t" in body and len(body.split("\t")) != len(t.columns):
                        problems.append(f"{os.path.basename(loc_sample)}: a row has {len(body.split(chr(9)))} "
                                        f"fields, the table {len(t.columns)}")
    if args.test_data and not glob.glob(os.path.join(dm_dir, "test-data", "*")):
        problems.append("no test-data/")
    problems += shed_yml_problems(os.path.join(dm_dir, ".shed.yml"))
    return tool, staged, problems


SHED_KEYS = ("name", "owner", "description", "long_description", "categories", "homepage_url",
             "remote_repository_url", "type")


def shed_yml_problems(path):
    """What the Tool Shed's linter warns about in a repository's .shed.yml."""
    import yaml
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as e:
        return [f"{os.path.basename(path)}: {e}"]
    problems = [f".shed.yml: no {k}" for k in SHED_KEYS if not doc.get(k)]
    if doc.get("name") and not re.match(r"^[a-z0-9_]+$", doc["name"]):
        problems.append(f".shed.yml: name {doc['name']!r} is not [a-z0-9_]+")
    return problems


def stage_tool_dir(args):
    if args.tool_dir:
        return os.path.abspath(args.tool_dir), None
    staged = tempfile.mkdtemp(prefix="gxrun-tools-")
    for xml in glob.glob(os.path.join(args.xml_dir, "*.xml")):
        shutil.copy(xml, staged)
    for binary in glob.glob(os.path.join(args.bin_dir, "hf-*")):
        if os.path.isfile(binary):
            shutil.copy(binary, staged)
    return staged, staged


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xml-dir", default=os.path.join(REPO, "tool_xml"))
    ap.add_argument("--bin-dir", default=os.environ.get("HF_BIN_DIR", os.path.join(REPO, "bin")))
    ap.add_argument("--tool-dir", help="a folder with the XMLs and the binaries side by side (e.g. build/shed)")
    ap.add_argument("--tools", default="", help="comma-separated tool ids whose tests run (default: all)")
    ap.add_argument("--no-tests", action="store_true", help="validate only")
    ap.add_argument("--list-test-data", action="store_true",
                    help="print the test-data files the tests of the selected tools use, and exit")
    ap.add_argument("--test-data", default=os.path.join(REPO, "test-data"))
    ap.add_argument("--xsd", default=os.path.join(SCHEMA_DIR, "galaxy.xsd"))
    ap.add_argument("--datatypes", default=os.path.join(SCHEMA_DIR, "datatypes.txt"))
    ap.add_argument("--data-manager", action="append", default=[],
                    help="a data manager folder (IUC layout: data_manager_conf.xml, data_manager/, "
                         "tool_data_table_conf.xml.test or .sample, tool-data/, test-data/)")
    ap.add_argument("--profile-floor", help="the suite's rules: every tool has this profile, a "
                    "<version_command> printing its version, and citations that resolve")
    ap.add_argument("--endpoint", help="use this Hub instead of starting the fixture Hub")
    ap.add_argument("--job-env", action="append", default=[], help="KEY=VALUE set by the 'admin' for jobs")
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--maxseconds", type=int, default=300)
    ap.add_argument("-k", dest="filter", help="run only tests whose label (tool#N) contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep job folders")
    args = ap.parse_args(argv)

    passed = failed = 0

    def report(ok, label, message="", details=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {label}" + (f" ({message})" if message and args.verbose else ""))
        else:
            failed += 1
            print(f"FAIL {label}")
            for line in (message or "").splitlines():
                print(f"     {line}")
        if details and (args.verbose or not ok):
            for line in details.splitlines():
                print(f"       | {line}")
        sys.stdout.flush()

    if args.list_test_data:
        selected = [t.strip() for t in args.tools.split(",") if t.strip()]
        files = set()
        for path in sorted(glob.glob(os.path.join(args.tool_dir or args.xml_dir, "*.xml"))):
            if ET.parse(path).getroot().tag == "tool":
                tool = Tool(path)
                if not selected or tool.id in selected:
                    files |= test_data_files(tool)
        print("\n".join(sorted(files)))
        return 0

    datatypes = load_datatypes(args.datatypes)
    tool_dir, staged = stage_tool_dir(args)
    tools = []
    for path in sorted(glob.glob(os.path.join(tool_dir, "*.xml"))):
        name = os.path.basename(path)
        try:
            root_tag = ET.parse(path).getroot().tag
        except Exception as e:
            report(False, f"schema {name}", str(e))
            continue
        if root_tag != "tool":
            continue
        try:
            tool = Tool(path)
        except ToolError as e:
            report(False, f"schema {name}", str(e))
            continue
        errors = validate_schema(tool.tree, args.xsd, name)
        report(not errors, f"schema {name}", "\n".join(errors))
        problems = lint(tool, datatypes)
        if args.profile_floor:
            problems += suite_problems(tool, args.profile_floor, tool_dir)
        report(not problems, f"lint {name}", "\n".join(problems))
        tools.append(tool)

    if args.tool_dir and os.path.exists(os.path.join(tool_dir, ".shed.yml")):
        problems = shed_yml_problems(os.path.join(tool_dir, ".shed.yml"))
        report(not problems, "lint .shed.yml", "\n".join(problems))
    dm_staged = []
    for dm_dir in args.data_manager:
        label = os.path.basename(os.path.normpath(dm_dir))
        try:
            tool, staged_dm, problems = load_data_manager(dm_dir, args, datatypes)
        except (ToolError, ET.ParseError, OSError) as e:
            report(False, f"data manager {label}", str(e))
            continue
        dm_staged.append(staged_dm)
        errors = validate_schema(tool.tree, args.xsd, os.path.basename(tool.path))
        report(not errors, f"schema {label}/{os.path.basename(tool.path)}", "\n".join(errors))
        problems += lint(tool, datatypes)
        if args.profile_floor:
            problems += suite_problems(tool, args.profile_floor, staged_dm)
        report(not problems, f"lint {label}", "\n".join(problems))
        tools.append(tool)

    selected = [t.strip() for t in args.tools.split(",") if t.strip()]
    known = {t.id for t in tools}
    for t in selected:
        if t not in known:
            report(False, f"tool {t}", "no such tool in " + tool_dir)
    run_tools = [t for t in tools if not selected or t.id in selected]

    hub = None
    runner = None
    if not args.no_tests and run_tools:
        try:
            endpoint, hub = start_hub(args)
        except Exception as e:
            report(False, "fixture hub", f"cannot start: {e}")
            endpoint = None
        if endpoint:
            runner = Runner(args, tool_dir, datatypes, endpoint)
            if args.verbose:
                print(f"# HF_ENDPOINT={endpoint}  tool dir={tool_dir}")
            for tool in run_tools:
                for i, test_el in enumerate(tool.tests, 1):
                    label = f"{tool.id}#{i}"
                    if args.filter and args.filter not in label:
                        continue
                    try:
                        ok, message, details = runner.run_test(tool, i, test_el)
                    except ToolError as e:
                        ok, message, details = False, f"cannot interpret the test: {e}", ""
                    except Exception as e:  # a bug here must not look like a pass
                        ok, message, details = False, f"runner error: {e}", traceback.format_exc()
                    report(ok, label, message, details)
    if hub is not None:
        hub.stop()
    if runner is not None:
        runner.cleanup()
    if staged and not args.keep:
        shutil.rmtree(staged, ignore_errors=True)
    for d in dm_staged:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
