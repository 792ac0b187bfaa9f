#!/usr/bin/python3
"""Runs a Galaxy workflow's tests (planemo's <workflow>-tests.yml) the way Galaxy runs them.

A workflow (.ga) is a graph of steps: parameter and dataset inputs, then tool steps whose
inputs are fixed in their tool_state or connected to an earlier step's output. For each
test, the job's inputs (by label) feed the input steps; each tool step runs, in the order
its connections require, as a Galaxy job of the tool (gxrun.Runner: the same form
validation, Cheetah, job folder and output collection as the tool tests); a step whose
input comes from a failed step does not run (Galaxy pauses it) and the test fails. The
outputs named in the test (workflow_outputs labels) are then checked: `file` (compared
like a tool test, relative to the test file), `asserts`, `checksum`, and `element_tests`
of collections.

--reproduce INPUT=OUTPUT:COMPARED reruns every passing test with its OUTPUT dataset given
as the INPUT dataset and checks that COMPARED is the same, byte for byte (a workflow's
promise that its manifest repeats its run).

Usage: gxworkflow.py WORKFLOW.ga [--reproduce 'Manifest of an earlier run=manifest:archive']
                     [--xml-dir tool_xml --bin-dir bin | --tool-dir DIR] [-v] [--keep]
Prints one line per test and ends with "N passed, N failed"; exits 1 on any failure.
"""

import argparse
import copy
import hashlib
import json
import os
import sys
import traceback
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

import gxrun  # noqa: E402
from gxtool import Tool, ToolError  # noqa: E402
from gxverify import verify_collection, verify_dataset  # noqa: E402

CONNECTED = {"ConnectedValue"}


class WorkflowError(Exception):
    """The workflow or its test cannot be interpreted (a failure, never a skip)."""


def short_tool_id(tool_id):
    """toolshed.g2.bx.psu.edu/repos/OWNER/REPO/TOOL/VERSION -> TOOL."""
    parts = (tool_id or "").split("/")
    return parts[-2] if "/repos/" in (tool_id or "") and len(parts) >= 6 else tool_id


def load_workflow(path):
    with open(path, encoding="utf-8") as fh:
        wf = json.load(fh)
    if wf.get("a_galaxy_workflow") != "true" or wf.get("format-version") != "0.1":
        raise WorkflowError(f"{path}: not a Galaxy workflow (.ga, format-version 0.1)")
    steps = {int(k): v for k, v in wf["steps"].items()}
    for sid, st in steps.items():
        if st["id"] != sid:
            raise WorkflowError(f"step {sid}: id {st['id']}")
        if st["type"] not in ("parameter_input", "data_input", "tool"):
            raise WorkflowError(f"step {sid}: type {st['type']} is not supported by this runner")
        for name, conn in st.get("input_connections", {}).items():
            for c in conn if isinstance(conn, list) else [conn]:
                if c["id"] not in steps:
                    raise WorkflowError(f"step {sid}: input {name} connected to missing step {c['id']}")
    return wf, steps


def step_order(steps):
    """Galaxy schedules a step once every step it is connected to has run."""
    order, done = [], set()
    while len(order) < len(steps):
        ready = [sid for sid in sorted(steps) if sid not in done and all(
            c["id"] in done for conn in steps[sid].get("input_connections", {}).values()
            for c in (conn if isinstance(conn, list) else [conn]))]
        if not ready:
            raise WorkflowError("the steps' connections form a cycle")
        order.append(ready[0])
        done.add(ready[0])
    return order


def lint_workflow(wf, steps, tools):
    """What IWC asks of a workflow, and that every connection fits the tool's inputs."""
    problems = []
    for key in ("name", "annotation", "creator", "license", "release", "uuid"):
        if not wf.get(key):
            problems.append(f"no {key}")
    labels = set()
    for sid, st in steps.items():
        if st["type"] != "tool":
            if not st.get("label"):
                problems.append(f"input step {sid} has no label")
            if not st.get("annotation"):
                problems.append(f"input step {sid} ({st.get('label')}) has no annotation")
            continue
        tid = short_tool_id(st["tool_id"])
        if tid not in tools:
            problems.append(f"step {sid}: no tool {tid}")
            continue
        tool = tools[tid]
        if st.get("tool_version") != tool.version:
            problems.append(f"step {sid}: tool version {st.get('tool_version')}, the tool is {tool.version}")
        state = json.loads(st["tool_state"])
        for name in st.get("input_connections", {}):
            if tool.input_by_name(name.split("|")[0]) is None:
                problems.append(f"step {sid}: connection to {name}, which {tid} does not have")
            elif _state_at(state, name) != {"__class__": "ConnectedValue"}:
                problems.append(f"step {sid}: {name} is connected but its state is not a ConnectedValue")
        outputs = {o.name for o in tool.outputs}
        for wo in st.get("workflow_outputs", []):
            if wo["output_name"] not in outputs:
                problems.append(f"step {sid}: workflow output {wo['output_name']} is not an output of {tid}")
            if not wo.get("label"):
                problems.append(f"step {sid}: workflow output {wo['output_name']} has no label")
            elif wo["label"] in labels:
                problems.append(f"two workflow outputs are labelled {wo['label']}")
            labels.add(wo.get("label"))
    return problems


def folder_problems(wf_path):
    """The files IWC asks for beside a workflow: README.md, CHANGELOG.md, the tests and a
    .dockstore.yml naming the workflow and its tests."""
    folder, name = os.path.dirname(os.path.abspath(wf_path)), os.path.basename(wf_path)
    problems = [f"no {f}" for f in ("README.md", "CHANGELOG.md", name[:-3] + "-tests.yml", ".dockstore.yml")
                if not os.path.isfile(os.path.join(folder, f))]
    if not problems:
        with open(os.path.join(folder, ".dockstore.yml"), encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        entries = doc.get("workflows") or []
        if not any(e.get("primaryDescriptorPath") == "/" + name and e.get("subclass") == "Galaxy"
                   and "/" + name[:-3] + "-tests.yml" in (e.get("testParameterFiles") or [])
                   for e in entries):
            problems.append(".dockstore.yml does not name the workflow (Galaxy) and its tests")
    return problems


def _state_at(state, name):
    for part in name.split("|"):
        state = state.get(part) if isinstance(state, dict) else None
    return state


def _test_param(parent, inputs, state, connected, prefix=""):
    """The tool_state of a step as the <param>s of a tool test (gxparams reads those)."""
    for p in inputs:
        key = prefix + p.name
        value = state.get(p.name) if isinstance(state, dict) else None
        if key in connected:
            value = connected[key]
        elif isinstance(value, dict) and value.get("__class__") in CONNECTED:
            value = None  # connected to nothing: an optional input left empty
        elif isinstance(value, dict) and value.get("__class__") == "RuntimeValue":
            raise WorkflowError(f"{key}: a runtime value, which a test cannot give")
        if p.kind == "section":
            el = ET.SubElement(parent, "section", name=p.name)
            _test_param(el, p.children, value or {}, connected, key + "|")
        elif p.kind == "repeat":
            for inst in value or []:
                el = ET.SubElement(parent, "repeat", name=p.name)
                _test_param(el, p.children, inst, connected, key + "|")
        elif p.kind == "conditional":
            value = value or {}
            selected = value.get(p.test_param.name)
            if selected is None or str(selected) not in p.cases:
                raise WorkflowError(f"{key}: the conditional's {p.test_param.name} is {selected!r}, no case of it")
            el = ET.SubElement(parent, "conditional", name=p.name)
            ET.SubElement(el, "param", name=p.test_param.name, value=str(selected))
            _test_param(el, p.cases[str(selected)], value, connected, key + "|")
        elif value is None:
            continue
        elif isinstance(value, dict) and "path" in value:
            ET.SubElement(parent, "param", name=p.name, value=value["path"], ftype=value["ext"])
        elif isinstance(value, bool):
            ET.SubElement(parent, "param", name=p.name, value="true" if value else "false")
        elif isinstance(value, list):
            ET.SubElement(parent, "param", name=p.name, value=",".join(str(v) for v in value))
        else:
            ET.SubElement(parent, "param", name=p.name, value=str(value))


def _assertion_elements(asserts):
    """planemo's asserts (a mapping of assertion to attributes, or a list of {that: ...})."""
    wrapper = ET.Element("assert_contents")
    items = []
    if isinstance(asserts, dict):
        for that, attrs in asserts.items():
            for a in attrs if isinstance(attrs, list) else [attrs]:
                items.append((that, a))
    else:
        for a in asserts:
            a = dict(a)
            items.append((a.pop("that"), a))
    for that, attrs in items:
        attrs = dict(attrs or {})
        children = attrs.pop("asserts", None)
        el = ET.SubElement(wrapper, that, {k: _xml_value(v) for k, v in attrs.items()})
        if children:
            el.extend(list(_assertion_elements(children)))
    return wrapper


def _xml_value(v):
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


class WorkflowRunner:
    def __init__(self, args, tools, runner, test_dir):
        self.args, self.tools, self.runner, self.test_dir = args, tools, runner, test_dir

    def run(self, wf, steps, job):
        """Runs every step; returns (outputs by workflow output label, problems)."""
        results = {}  # (step id, output name) -> {"path", "ext"} or {"type", "elements"}
        problems = []
        for sid in step_order(steps):
            st = steps[sid]
            label = st.get("label") or str(sid)
            if st["type"] == "parameter_input":
                state = json.loads(st["tool_state"])
                if label in job:
                    results[(sid, "output")] = {"value": str(job[label])}
                elif "default" in state:
                    results[(sid, "output")] = {"value": str(state["default"])}
                elif state.get("optional"):
                    results[(sid, "output")] = None
                else:
                    raise WorkflowError(f"the job gives no value for the required input {label!r}")
                continue
            if st["type"] == "data_input":
                state = json.loads(st["tool_state"])
                given = job.get(label)
                if given is None:
                    if not state.get("optional"):
                        raise WorkflowError(f"the job gives no dataset for the required input {label!r}")
                    results[(sid, "output")] = None
                    continue
                if isinstance(given, dict) and given.get("class") == "File":
                    path = given["path"]
                    path = path if os.path.isabs(path) else os.path.join(self.test_dir, path)
                    ext = given.get("filetype")
                    if not ext:
                        raise WorkflowError(f"{label}: give filetype (this runner does not sniff)")
                    if state.get("format") and ext not in state["format"]:
                        raise WorkflowError(f"{label}: {ext} is not one of {state['format']}")
                    results[(sid, "output")] = {"path": path, "ext": ext}
                else:
                    raise WorkflowError(f"{label}: a dataset input takes {{class: File, path: ...}}")
                continue
            tool = self.tools[short_tool_id(st["tool_id"])]
            connected = {}
            waiting = False
            for name, conn in st.get("input_connections", {}).items():
                src = results.get((conn["id"], conn["output_name"]), "missing")
                if src == "missing":
                    waiting = True  # the step it comes from failed: Galaxy pauses this one
                    continue
                if src is None:
                    continue
                if "value" in src:
                    connected[name] = src["value"]
                elif "path" in src:
                    connected[name] = src
                else:
                    raise WorkflowError(f"step {label}: {name} is connected to a collection")
            if waiting:
                problems.append(f"step {label} ({tool.id}) did not run: an input's step failed")
                continue
            test_el = ET.Element("test")
            _test_param(test_el, tool.inputs, json.loads(st["tool_state"]), connected)
            self.runner.last_outputs = None
            ok, message, details = self.runner.run_test(tool, f"wf{sid}-{os.urandom(3).hex()}", test_el)
            out = self.runner.last_outputs
            if not ok or out is None or out["failed"]:
                problems.append(f"step {label} ({tool.id}) failed: {message}\n{details}")
                continue
            for name, c in out["created"].items():
                if c["kind"] == "data":
                    results[(sid, name)] = {"path": c["path"], "ext": c["ext"]}
                elif name in out["collections"]:
                    results[(sid, name)] = {"type": c["type"], "elements": out["collections"][name]["elements"]}
        outputs = {}
        for sid, st in steps.items():
            for wo in st.get("workflow_outputs", []):
                if (sid, wo["output_name"]) in results:
                    outputs[wo["label"]] = results[(sid, wo["output_name"])]
        return outputs, problems

    def check(self, outputs, expected):
        problems = []
        for label, spec in (expected or {}).items():
            if label not in outputs:
                problems.append(f"no workflow output {label!r} (outputs: {', '.join(sorted(outputs))})")
                continue
            out = outputs[label]
            try:
                if "elements" in out:
                    coll = ET.Element("output_collection", name=label)
                    for ident, etest in (spec.get("element_tests") or {}).items():
                        el = ET.SubElement(coll, "element", name=ident)
                        self._dataset_spec(el, etest)
                    verify_collection(f"Output collection {label}", coll, out, self.test_dir)
                else:
                    el = ET.Element("output")
                    self._dataset_spec(el, spec)
                    attrs = dict(el.attrib)
                    verify_dataset(f"Output {label}", out["path"], out["ext"], attrs, list(el), self.test_dir)
            except AssertionError as e:
                problems.append(str(e))
        return problems

    @staticmethod
    def _dataset_spec(el, spec):
        spec = dict(spec) if isinstance(spec, dict) else {"file": spec}
        unknown = set(spec) - {"file", "asserts", "checksum", "ftype", "compare", "lines_diff"}
        if unknown:
            raise ToolError(f"output test keys {sorted(unknown)} are not supported by this runner")
        for key in ("file", "checksum", "ftype", "compare", "lines_diff"):
            if key in spec:
                el.set(key, str(spec[key]))
        if "asserts" in spec:
            el.append(_assertion_elements(spec["asserts"]))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workflow", nargs="+", help="workflow .ga files, each with its -tests.yml beside it")
    ap.add_argument("--xml-dir", default=os.path.join(gxrun.REPO, "tool_xml"))
    ap.add_argument("--bin-dir", default=os.environ.get("HF_BIN_DIR", os.path.join(gxrun.REPO, "bin")))
    ap.add_argument("--tool-dir", help="a folder with the XMLs and the binaries side by side (e.g. build/shed)")
    ap.add_argument("--xsd", default=os.path.join(gxrun.SCHEMA_DIR, "galaxy.xsd"))
    ap.add_argument("--datatypes", default=os.path.join(gxrun.SCHEMA_DIR, "datatypes.txt"))
    ap.add_argument("--reproduce", action="append", default=[], metavar="INPUT=OUTPUT:COMPARED")
    ap.add_argument("--lint-only", action="store_true", help="check the workflows, run no test")
    ap.add_argument("--endpoint")
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--maxseconds", type=int, default=300)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    # what gxrun.Runner reads from its arguments
    args.job_env, args.test_data = [], gxrun.REPO

    passed = failed = 0

    def report(ok, label, message=""):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(("ok   " if ok else "FAIL ") + label + ("" if ok or not message else ""))
        if message and (not ok or args.verbose):
            for line in message.splitlines():
                print(f"     {line}")
        sys.stdout.flush()

    datatypes = gxrun.load_datatypes(args.datatypes)
    tool_dir, staged = gxrun.stage_tool_dir(args)
    tools = {}
    for name in sorted(os.listdir(tool_dir)):
        path = os.path.join(tool_dir, name)
        if name.endswith(".xml") and ET.parse(path).getroot().tag == "tool":
            t = Tool(path)
            tools[t.id] = t
    endpoint, hub = (None, None) if args.lint_only else gxrun.start_hub(args)
    runner = gxrun.Runner(args, tool_dir, datatypes, endpoint)
    try:
        for wf_path in args.workflow:
            wf_name = os.path.basename(wf_path)
            test_path = wf_path[:-len(".ga")] + "-tests.yml"
            try:
                wf, steps = load_workflow(wf_path)
                with open(test_path, encoding="utf-8") as fh:
                    tests = yaml.safe_load(fh)
            except (OSError, ValueError, WorkflowError, yaml.YAMLError) as e:
                report(False, f"workflow {wf_name}", str(e))
                continue
            problems = lint_workflow(wf, steps, tools) + folder_problems(wf_path)
            report(not problems, f"lint {wf_name}", "\n".join(problems))
            if problems or args.lint_only:
                continue
            wr = WorkflowRunner(args, tools, runner, os.path.dirname(os.path.abspath(test_path)))
            for i, test in enumerate(tests, 1):
                label = f"{wf_name}#{i}"
                try:
                    outputs, problems = wr.run(wf, steps, test.get("job") or {})
                    if not problems:
                        problems = wr.check(outputs, test.get("outputs"))
                    report(not problems, label, "\n".join(problems))
                    if problems:
                        continue
                    for spec in args.reproduce:
                        input_label, _, rest = spec.partition("=")
                        output_label, _, compared = rest.partition(":")
                        job = copy.deepcopy(test.get("job") or {})
                        job[input_label] = {"class": "File", "path": outputs[output_label]["path"],
                                            "filetype": outputs[output_label]["ext"]}
                        again, problems = wr.run(wf, steps, job)
                        if not problems:
                            a, b = sha256(outputs[compared]["path"]), sha256(again[compared]["path"])
                            if a != b:
                                problems.append(f"rerun with {output_label} as {input_label!r}: {compared} "
                                                f"differs (sha256 {a} then {b})")
                        report(not problems, f"{label} rerun from its {output_label}: the same {compared}",
                               "\n".join(problems))
                except (WorkflowError, ToolError) as e:
                    report(False, label, f"cannot interpret the test: {e}")
                except Exception as e:  # a bug here must not look like a pass
                    report(False, label, f"runner error: {e}\n{traceback.format_exc()}")
    finally:
        if hub is not None:
            hub.stop()
        runner.cleanup()
        if staged and not args.keep:
            import shutil
            shutil.rmtree(staged, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
