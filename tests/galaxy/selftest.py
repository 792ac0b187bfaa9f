#!/usr/bin/python3
"""Self-tests of the Galaxy tool test runner (gxrun.py and its modules).

Checks the pieces against what Galaxy does (macro expansion, sanitizers,
validators, assertions, diff counting, command cleaning) and runs the runner
on two small tools: selftest/good (every test must pass, including tests that
expect a failing assertion) and selftest/bad (tests the runner cannot
interpret: each must be reported as a failure, never skipped).
Prints one line per check and "N passed, N failed"; exits 1 on any failure.
"""

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import traceback
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))

from gxtool import Sanitizer, Tool, ToolError, expand_macros, sanitize_default  # noqa: E402
from gxparams import SubmissionError, clean_command, fill_template, validate_state  # noqa: E402
from gxverify import files_diff, parse_bytesize, verify_assertions  # noqa: E402

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    return False


def xml(text):
    return ET.fromstring(text)


def write(dir_, name, text):
    path = os.path.join(dir_, name)
    with open(path, "w") as fh:
        fh.write(text)
    return path


# ---------------------------------------------------------------- macros

@check
def macros_nested_tokens_yields():
    with tempfile.TemporaryDirectory() as d:
        write(d, "m.xml", """<macros>
            <token name="@A@">alpha</token>
            <token name="@AB@">@A@-beta</token>
            <import>m2.xml</import>
            <xml name="wrap" tokens="what" token_extra="dflt">
                <section name="s_@WHAT@" title="@EXTRA@ @AB@"><expand macro="leaf"/><yield/></section>
            </xml>
        </macros>""")
        write(d, "m2.xml", """<macros>
            <xml name="leaf"><param name="leaf" type="text" value="@A@"/></xml>
            <xml name="named"><a><yield name="first"/></a><b><yield/></b></xml>
        </macros>""")
        path = write(d, "t.xml", """<tool id="t" version="@AB@"><macros><import>m.xml</import></macros>
            <inputs><expand macro="wrap" what="one"><param name="inner" type="text"/></expand>
            <expand macro="wrap" what="two" extra="given"/></inputs>
            <x><expand macro="named"><token name="first"><f/></token><g/></expand></x></tool>""")
        tree, paths = expand_macros(path)
        root = tree.getroot()
        assert root.get("version") == "alpha-beta", root.get("version")
        s1, s2 = root.findall("inputs/section")
        assert s1.get("name") == "s_one" and s1.get("title") == "dflt alpha-beta", s1.attrib
        assert s2.get("title") == "given alpha-beta", s2.attrib
        assert [p.get("name") for p in s1.findall("param")] == ["leaf", "inner"]
        assert s1.find("param").get("value") == "alpha"
        assert root.find("x/a/f") is not None and root.find("x/b/g") is not None
        assert root.find("x/a/g") is None and root.find(".//expand") is None
        assert len(paths) == 2


@check
def macros_errors():
    with tempfile.TemporaryDirectory() as d:
        t1 = write(d, "t1.xml", '<tool><macros><xml name="a"><expand macro="b"/></xml>'
                               '<xml name="b"><expand macro="a"/></xml></macros><expand macro="a"/></tool>')
        assert raises(ToolError, expand_macros, t1), "a cycle must be refused"
        t2 = write(d, "t2.xml", '<tool><macros><xml name="a" tokens="x"><p v="@X@"/></xml></macros>'
                               '<expand macro="a"/></tool>')
        assert raises(ToolError, expand_macros, t2), "a missing macro parameter must be refused"
        t3 = write(d, "t3.xml", '<tool><macros/><expand macro="nope"/></tool>')
        assert raises(ToolError, expand_macros, t3), "an unknown macro must be refused"


# ---------------------------------------------------------------- sanitizing and validation

@check
def sanitize_default_like_galaxy():
    assert sanitize_default("a'b\"c[d]{e}@f#g<h>i\tj\nk") == \
        "a__sq__b__dq__c__ob__d__cb____oc__e__cc____at__f__pd__g__lt__h__gt__i__tc__j__cn__k"
    assert sanitize_default("*.json ;$(rm -rf)|`x`&é") == "*.json XX(rm -rf)XXxXXX"


@check
def sanitizer_declared_starts_empty():
    # A declared sanitizer with <valid> only maps nothing (Galaxy's ToolParameterSanitizer).
    s = Sanitizer.from_element(xml('<sanitizer><valid initial="string.digits"/></sanitizer>'))
    assert s("a1'2") == "X1X2", s("a1'2")
    s = Sanitizer.from_element(xml('<sanitizer><valid initial="none"><add preset="string.printable"/>'
                                   '<remove value="&quot;"/></valid><mapping initial="none">'
                                   '<add source="&quot;" target="\\&quot;"/></mapping></sanitizer>'))
    assert s('a"b$c') == 'a\\"b$c', s('a"b$c')


@check
def sanitizer_of_the_pattern_inputs():
    tool = Tool(os.path.join(REPO, "tool_xml", "hf_fetch.xml"))
    pattern = tool.input_by_name("include").children[0]
    for glob in ("*.json", "[ab]*", "sub dir/", "weights/part-0000?.bin", "odd/hash#name.txt", "100%.txt",
                 "a+b=c&d", "{x,y}", "$HOME", "`id`", '"q"', "x\\y"):
        assert pattern.sanitizer(glob) == glob, (glob, pattern.sanitizer(glob))
    assert pattern.sanitizer("it's") == "its"


@check
def repo_id_validators():
    # hf_bundle: the shared repo_inputs macro with a required repository (hf_list has it in
    # a conditional, hf_fetch may take the repository from a table of List)
    tool = Tool(os.path.join(REPO, "tool_xml", "hf_bundle.xml"))

    def ok(repo_id, revision="main"):
        state = {p.name: p.default() for p in tool.inputs}
        state.update(repo_id=repo_id, revision=revision)
        try:
            validate_state(tool.inputs, state)
            return True
        except SubmissionError:
            return False
    good = ["acme/tiny-model", "gpt2", "google-bert/bert-base-uncased", "a/b", "A_b.c-d/x_y.z", "a" * 96,
            "org/" + "n" * 96]
    bad = ["", "acme/--x", "a--b", "a..b/c", "-a/b", "a/b.", ".a", "a/-b", "a/b/c", "a b", "a/" + "n" * 97,
           "a/b.git", "acme/tiny'model", "acme/é"]
    for g in good:
        assert ok(g), f"refused a good id {g!r}"
    for b in bad:
        assert not ok(b), f"accepted a bad id {b!r}"
    assert ok("acme/x", "refs/pr/1") and ok("acme/x", "v1.0") and ok("acme/x", "a" * 40)
    assert not ok("acme/x", "a..b") and not ok("acme/x", "main branch") and not ok("acme/x", "")


DM_DIR = os.path.join(REPO, "data_managers", "data_manager_hf_fetch")


def dm_tool():
    import gxdm
    import gxparams
    tool = Tool(os.path.join(DM_DIR, "data_manager", "data_manager_hf_fetch.xml"))
    gxparams.DATA_TABLES.clear()
    gxparams.DATA_TABLES.update(gxdm.load_tables(os.path.join(DM_DIR, "tool_data_table_conf.xml.test")))
    return tool


@check
def data_manager_refuses_bad_rows_in_the_form():
    tool = dm_tool()
    row = {"value": "tiny_1_x", "name": "Tiny model", "pipeline_tag": "text-generation", "domain": "text",
           "free_tag": "tiny", "version": "1", "path_mode": "cache"}

    def ok(**changes):
        state = {p.name: p.default() for p in tool.inputs}
        state.update(repo_id="acme/tiny-model")
        state["row"] = dict(row, **changes)
        try:
            validate_state(tool.inputs, state)
            return True
        except SubmissionError:
            return False
    assert ok()
    assert ok(name='A "quoted" name, v2 (fp16)') and ok(version="2.1") and ok(free_tag="sd-XL_1")
    # the value already in test-data/huggingface.loc (rows are only ever added)
    assert not ok(value="existing_1_tiny-model"), "accepted a value already in the table"
    for field in ("value", "free_tag", "version"):
        for bad in ("../x", "a/b", "..", "1..2", ".hidden", "-x", "a b", "a\tb", "a\nb", "", "é", "x" * 129):
            assert not ok(**{field: bad}), f"accepted {field}={bad!r}"
    for bad in ("a\tb", "a\nb", "a\rb", "it's", ""):
        assert not ok(name=bad), f"accepted name={bad!r}"
    assert not ok(domain="genome") and not ok(pipeline_tag="not-a-task")


@check
def data_manager_row_script_refuses_and_escapes():
    tool = dm_tool()
    script = dict((n, c) for n, _, c in tool.configfiles)["row_sh"]
    script = fill_template(script, {})
    commit = "d0f2a7911c51d3edecd58366de6614a3a5e4d92b"
    with tempfile.TemporaryDirectory() as d:
        sh = write(d, "row.sh", script)
        snap = f"{d}/out/v_1/hub/models--acme--m/snapshots/{commit}"

        def run(value="v_1", name="M", free_tag="t", version="1", snapshot=snap, mode="cache"):
            out = os.path.join(d, "out.json")
            if os.path.exists(out):
                os.unlink(out)
            p = subprocess.run(["bash", sh, out, f"{d}/out", snapshot, mode, "acme/m", value, name,
                                "text-generation", "text", free_tag, version], capture_output=True, text=True)
            return p.returncode, (open(out).read() if os.path.exists(out) else None), p.stderr
        rc, out, err = run(name='a "b" \\c')
        assert rc == 0, err
        row = json.loads(out)["data_tables"]["huggingface"][0]
        assert row["name"] == f'a "b" \\c (acme/m@{commit})' and row["path"] == "v_1/hub", row
        rc, out, _ = run(mode="snapshot")
        assert json.loads(out)["data_tables"]["huggingface"][0]["path"] == f"v_1/hub/models--acme--m/snapshots/{commit}"
        for bad in ({"name": "a\tb"}, {"name": "a\nb"}, {"free_tag": "a\tb"}, {"version": "../1"},
                    {"value": "../v"}, {"free_tag": "x/y"}, {"version": ""}, {"snapshot": f"{d}/elsewhere/{commit}"},
                    {"snapshot": f"{d}/out/v_1/hub/models--acme--m/snapshots/main"}, {"mode": "other"}):
            rc, out, err = run(**bad)
            assert rc == 2 and out is None and err.startswith("error: "), (bad, rc, err)


@check
def data_manager_results_processed_like_galaxy():
    import gxdm
    dm = gxdm.DataManager(os.path.join(DM_DIR, "data_manager_conf.xml"))
    with tempfile.TemporaryDirectory() as d:
        tables = gxdm.load_tables(os.path.join(DM_DIR, "tool_data_table_conf.xml.test"), copy_to=d)
        extra = os.path.join(d, "extra")
        os.makedirs(os.path.join(extra, "v_1", "hub"))
        write(os.path.join(extra, "v_1"), "manifest.json", "{}")
        row = {"value": "v_1", "name": "M", "pipeline_tag": "text-generation", "domain": "text",
               "free_tag": "t", "version": "1", "path": "v_1/hub"}

        def result(**changes):
            return write(d, "out.json", json.dumps({"data_tables": {"huggingface": [dict(row, **changes)]}}))
        data = os.path.join(d, "data")
        rows = dm.process_result(result(), {"out_file": extra}, data, tables)
        assert rows == [["v_1", "M", "text-generation", "text", "t", "1", os.path.join(data, "huggingface/v_1/hub")]]
        assert os.path.isfile(os.path.join(data, "huggingface", "v_1", "manifest.json"))
        assert tables["huggingface"].rows()[-1] == rows[0]
        for bad in ({"name": "a\tb"}, {"extra": "x"}, {"value": "../../x"}):
            os.makedirs(os.path.join(extra, "v_1", "hub"), exist_ok=True)
            assert raises(gxdm.DataManagerFailure, dm.process_result, result(**bad), {"out_file": extra},
                          data, tables), bad


# ---------------------------------------------------------------- Cheetah and the command

@check
def command_lines_are_joined_with_spaces():
    # Galaxy strips each line and joins them with spaces: a trailing backslash becomes "\ ".
    cmd = clean_command(fill_template("echo a \\\n   --x\n  #if $v:\n  b\n  #end if\n", {"v": True}))
    assert cmd == "echo a \\ --x b", repr(cmd)
    out = subprocess.run(["bash", "-c", "printf '[%s]' " + cmd[5:]], capture_output=True, text=True).stdout
    assert out == "[a][ --x][b]", out


@check
def galaxy_slots_escaped():
    assert fill_template("-t \\${GALAXY_SLOTS:-1} \\$HOME", {}) == "-t ${GALAXY_SLOTS:-1} $HOME"


# ---------------------------------------------------------------- assertions

def must_fail(data, snippet):
    try:
        verify_assertions(data, list(xml(f"<a>{snippet}</a>")))
    except AssertionError:
        return
    raise AssertionError(f"{snippet} passed on {data!r}")


def must_pass(data, snippet):
    verify_assertions(data, list(xml(f"<a>{snippet}</a>")))


@check
def assertions_semantics():
    data = b"alpha\nbeta\nalpha beta\n"
    must_pass(data, '<has_text text="alpha" n="2"/>')
    must_fail(data, '<has_text text="alpha" n="3"/>')
    must_pass(data, '<has_text text="alpha" n="3" delta="1"/>')
    must_fail(data, '<has_text text="gamma"/>')
    must_pass(data, '<has_text text="gamma" negate="true"/>')
    must_pass(data, '<has_line line="beta"/>')
    must_fail(data, '<has_line line="bet"/>')
    must_pass(data, '<has_line_matching expression="al.*a" n="2"/>')
    must_fail(data, '<has_line_matching expression="al.*a" n="1"/>')
    must_fail(b'{"a": {}}\n', '<has_text text="{x}" n="1"/>')
    must_pass(data, '<has_text_matching expression="a\\w+a" min="2"/>')
    must_fail(data, '<has_text_matching expression="^beta$"/>')
    must_pass(data, '<has_n_lines n="3"/>')
    must_fail(data, '<has_n_lines n="4"/>')
    must_pass(data, '<has_n_lines min="1" max="3"/>')
    must_fail(data, '<not_has_text text="beta"/>')
    must_pass(data, '<has_size value="22"/>')
    must_pass(data, '<has_size size="20" delta="2"/>')
    must_fail(data, '<has_size min="1k"/>')
    assert parse_bytesize("1k") == 1000 and parse_bytesize("1Ki") == 1024 and parse_bytesize("3") == 3
    assert raises(ToolError, verify_assertions, data, list(xml('<a><has_json_property_with_text/></a>')))


@check
def archive_assertions():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in (("top/a.txt", b"hello\n"), ("top/sub/b.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    data = buf.getvalue()
    must_pass(data, '<has_archive_member path="top/a\\.txt"><has_text text="hello"/></has_archive_member>')
    must_fail(data, '<has_archive_member path="top/a\\.txt"><has_text text="bye"/></has_archive_member>')
    must_pass(data, '<has_archive_member path=".*" n="2"/>')
    must_fail(data, '<has_archive_member path="nothing"/>')
    must_pass(data, '<has_archive_member path="nothing" negate="true"/>')
    must_fail(b"not an archive", '<has_archive_member path=".*"/>')


@check
def diff_counts_like_galaxy():
    with tempfile.TemporaryDirectory() as d:
        a = write(d, "a", "1\n2\n3\n")
        b = write(d, "b", "1\nX\n3\n")
        files_diff(a, a, {})
        files_diff(a, b, {"lines_diff": "2"})  # one changed line is one - and one +
        assert raises(AssertionError, files_diff, a, b, {"lines_diff": "1"})
        files_diff(write(d, "c", "3\n1\n2\n"), a, {"sort": "true"})


@check
def suite_rules_profile_version_citations():
    from gxrun import citation_problems, suite_problems
    good_bib = ("@misc{x,\n  title = {T},\n  author = {{A}},\n  year = {2025},\n"
                "  howpublished = {\\url{https://example.org}}\n}")
    with tempfile.TemporaryDirectory() as d:
        def tool(profile, version_command, citations):
            path = write(d, "t.xml", f'''<tool id="t" name="t" version="1.2.3+galaxy0" profile="{profile}">
{version_command}<command>true</command><inputs/><outputs/>{citations}</tool>''')
            return Tool(path)
        vc = "<version_command>echo 't 1.2.3'</version_command>"
        cit = f'<citations><citation type="bibtex">{good_bib}</citation></citations>'
        assert suite_problems(tool("25.1", vc, cit), "25.1", d) == []
        assert any("floor" in p for p in suite_problems(tool("24.1", vc, cit), "25.1", d))
        assert any("version_command" in p for p in suite_problems(tool("25.1", "", cit), "25.1", d))
        wrong = "<version_command>echo 't 9.9'</version_command>"
        assert any("not the tool version" in p for p in suite_problems(tool("25.1", wrong, cit), "25.1", d))
        assert any("no <citations>" in p for p in citation_problems(tool("25.1", vc, "")))
        doi = '<citations><citation type="doi">10.1093/nar/gkae410</citation></citations>'
        assert citation_problems(tool("25.1", vc, doi)) == []
        assert citation_problems(tool("25.1", vc, doi.replace("10.1093/", "1093/")))
        assert citation_problems(tool("25.1", vc, cit.replace("year = {2025},", "")))


@check
def workflow_steps_and_lint():
    import gxworkflow as gw
    wf, steps = gw.load_workflow(os.path.join(REPO, "workflows", "hf-pinned-snapshot", "hf-pinned-snapshot.ga"))
    assert gw.step_order(steps) == [0, 1, 2, 3, 4, 5]
    tools = {t: Tool(os.path.join(REPO, "tool_xml", t + ".xml")) for t in ("hf_list", "hf_fetch", "hf_bundle")}
    assert gw.lint_workflow(wf, steps, tools) == []
    # a connection to an input the tool does not have, an output it does not make, a cycle
    bad = {int(k): v for k, v in json.loads(json.dumps(steps)).items()}
    bad[4]["input_connections"]["no_such"] = {"id": 3, "output_name": "listing"}
    bad[5]["workflow_outputs"][0]["output_name"] = "nothing"
    problems = gw.lint_workflow(wf, bad, tools)
    assert any("no_such" in p for p in problems) and any("nothing" in p for p in problems), problems
    bad[3]["input_connections"]["lock"] = {"id": 5, "output_name": "manifest"}
    assert raises(gw.WorkflowError, gw.step_order, bad)
    assert gw.short_tool_id("toolshed.g2.bx.psu.edu/repos/o/r/hf_fetch/0.1.0+galaxy0") == "hf_fetch"
    el = gw._assertion_elements({"has_text": {"text": "a"}, "has_archive_member": [{"path": "x"}, {"path": "y"}]})
    assert [(c.tag, dict(c.attrib)) for c in el] == [("has_text", {"text": "a"}), ("has_archive_member", {"path": "x"}),
                                                    ("has_archive_member", {"path": "y"})]
    el = gw._assertion_elements([{"that": "has_n_lines", "n": 3, "negate": False}])
    assert [(c.tag, dict(c.attrib)) for c in el] == [("has_n_lines", {"n": "3", "negate": "false"})]


# ---------------------------------------------------------------- whole runs

def run_runner(tool_dir, extra_env=None):
    env = dict(os.environ)
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, os.path.join(HERE, "gxrun.py"), "--tool-dir", tool_dir,
                           "--test-data", os.path.join(tool_dir, "test-data"),
                           "--endpoint", "http://127.0.0.1:9"],
                          capture_output=True, text=True, env=env, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


@check
def runner_on_good_tool():
    rc, out = run_runner(os.path.join(HERE, "selftest", "good"), {"SELFTEST_FOREIGN": "leaked"})
    last = out.strip().splitlines()[-1]
    assert rc == 0 and last == "21 passed, 0 failed", out


@check
def runner_refuses_what_it_cannot_interpret():
    rc, out = run_runner(os.path.join(HERE, "selftest", "bad"))
    lines = out.strip().splitlines()
    assert rc == 1, out
    for label in ("schema bad_macro.xml", "gx_bad#1", "gx_bad#2", "gx_bad#3", "gx_bad#4", "gx_bad#5",
                  "gx_bad_profile#1"):
        assert f"FAIL {label}" in lines, f"{label} not reported as a failure:\n{out}"
    assert lines[-1] == "4 passed, 7 failed", out


def main():
    passed = failed = 0
    for fn in CHECKS:
        try:
            fn()
            print(f"ok   selftest {fn.__name__}")
            passed += 1
        except Exception as e:
            print(f"FAIL selftest {fn.__name__}: {e}")
            for line in traceback.format_exc().splitlines()[-6:]:
                print(f"       | {line}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
