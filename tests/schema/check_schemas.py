#!/usr/bin/env python3
"""Keep schemas/*.schema.json and the C validator (`vcm validate`) in step.

(a) every YAML file of examples/*/ validates against the schema of its kind;
(b) every case of tests/schema/corpus/ goes through BOTH the schema and `vcm validate --source`
    on a temporary repository (the corpus base site and Rolls plus the one file under test), and
    the two must agree: both accept good/ cases, both reject bad/ cases. c-only/ cases are
    per-file rules that JSON Schema cannot express: the C validator must reject them and the
    schema is expected to accept them (so a schema that learns the rule is noticed, too);
(c) `vcm validate --source` exits 0 on every examples/*/ repository.

Without --vcm only (a) and the schema side of (b) run.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml
from jsonschema import Draft202012Validator

KINDS = {"cluster": "VirtualCluster", "site": "Site", "roll": "Roll"}
SCHEMA_FILES = {
    "VirtualCluster": "virtualcluster.schema.json",
    "Site": "site.schema.json",
    "Roll": "roll.schema.json",
}
# Under ASan/UBSan a memory error may still exit 1 and look like a rejection.
SANITIZER = re.compile(r"(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)")
CASE_NAME = re.compile(r"^(?=.{2,24}$)[a-z][a-z0-9-]*[a-z0-9]$")
DIAG_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (error|warning): .+")


# ---- YAML as the C loader sees it ---------------------------------------------------------------
# libyaml hands the C loader plain scalars as text; it types them itself. PyYAML's defaults follow
# YAML 1.1 (2026-12-01T09:00:00Z is a datetime, 12:00 is the integer 720, `yes` is true), which
# would make the schema see other values than vcm does. This loader follows the YAML 1.2 core
# schema instead, as editors do, and refuses duplicate keys, which JSON cannot hold.
class SpecLoader(yaml.SafeLoader):
    pass


SpecLoader.yaml_implicit_resolvers = {}
_FIRST = "-+0123456789"
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list(_FIRST))
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list(_FIRST + "."))
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # YAML 1.2: 0644 is decimal 644, not octal


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


SpecLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
SpecLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=SpecLoader)


# ---- the schema side -----------------------------------------------------------------------------
class Schemas:
    def __init__(self, schema_dir):
        self.validators = {}
        for kind, name in SCHEMA_FILES.items():
            with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
                schema = json.load(f)
            Draft202012Validator.check_schema(schema)
            self.validators[kind] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def errors(self, kind, path, ret_spans=None):
        """The schema's complaints about one file, as strings; [] when it validates. With
        ret_spans (a list), also appends the (first, last) line of the YAML node each complaint
        is about, or None when unknown."""
        try:
            doc = load_yaml(path)
        except yaml.YAMLError as e:
            if ret_spans is not None:
                mark = getattr(e, "problem_mark", None)
                ret_spans.append((mark.line + 1, mark.line + 1) if mark else None)
            return ["YAML: %s" % str(e).replace("\n", " ")]
        out = []
        for err in sorted(self.validators[kind].iter_errors(doc), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append("%s: %s" % (where, err.message))
            if ret_spans is not None:
                ret_spans.append(node_span(path, list(err.absolute_path)))
        return out


def node_span(path, pointer):
    """First and last line (1-based) of the YAML node at pointer (keys and indexes)."""
    with open(path, encoding="utf-8") as f:
        node = yaml.compose(f, Loader=SpecLoader)
    for step in pointer:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            return None
    return node.start_mark.line + 1, node.end_mark.line + 1


def kind_of_example(relpath):
    if relpath == "site.yaml":
        return "Site"
    if relpath.startswith("clusters/"):
        return "VirtualCluster"
    if relpath.startswith("rolls/"):
        return "Roll"
    return None


def example_files(example_dir):
    for root, _, files in os.walk(example_dir):
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                full = os.path.join(root, name)
                yield os.path.relpath(full, example_dir), full


# ---- the C side ----------------------------------------------------------------------------------
def run_vcm(vcm, source):
    """Returns (exit code, output lines). A signal is reported as a negative code."""
    p = subprocess.run([vcm, "validate", "--source", source], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    return p.returncode, p.stdout.splitlines()


def corpus_cases(corpus):
    """(group, kind, case name, path) for every case file, sorted."""
    for group in ("good", "bad", "c-only"):
        for sub in sorted(KINDS):
            d = os.path.join(corpus, group, sub)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                if name.endswith(".yaml"):
                    yield group, KINDS[sub], name[:-5], os.path.join(d, name)


def repo_path_for(kind, case):
    if kind == "Site":
        return "site.yaml"
    if kind == "VirtualCluster":
        return "clusters/%s.yaml" % case
    return "rolls/%s.yaml" % case


def build_repo(base, kind, case, path, tmp):
    repo = os.path.join(tmp, "repo-" + case)
    shutil.copytree(base, repo)
    os.makedirs(os.path.join(repo, "clusters"), exist_ok=True)
    os.makedirs(os.path.join(repo, "rolls"), exist_ok=True)
    rel = repo_path_for(kind, case)
    shutil.copyfile(path, os.path.join(repo, rel))
    return repo, rel


def case_description(path):
    with open(path, encoding="utf-8") as f:
        first = f.readline().strip()
    return first[1:].strip() if first.startswith("#") else ""


# ---- main ----------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--source-dir", required=True, help="the vcm source tree")
    ap.add_argument("--vcm", help="the vcm binary; without it only the schema side runs")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    src = os.path.abspath(args.source_dir)
    schemas = Schemas(os.path.join(src, "schemas"))
    failures = []
    counts = {"examples": 0, "good": 0, "bad": 0, "c-only": 0}

    # (a) the examples against the schemas
    examples_root = os.path.join(src, "examples")
    examples = sorted(d for d in os.listdir(examples_root)
                      if os.path.isfile(os.path.join(examples_root, d, "site.yaml")))
    if not examples:
        failures.append("no example repositories under %s" % examples_root)
    for ex in examples:
        for rel, full in example_files(os.path.join(examples_root, ex)):
            kind = kind_of_example(rel)
            if kind is None:
                continue
            counts["examples"] += 1
            errs = schemas.errors(kind, full)
            if errs:
                failures.append("examples/%s/%s does not validate against the %s schema:\n    %s"
                                % (ex, rel, kind, "\n    ".join(errs)))
            elif args.verbose:
                print("ok   schema  examples/%s/%s" % (ex, rel))

    # (c) the examples through the C validator
    if args.vcm:
        for ex in examples:
            rc, out = run_vcm(args.vcm, os.path.join(examples_root, ex))
            if rc != 0 or any(SANITIZER.search(l) for l in out):
                failures.append("vcm validate --source examples/%s exited %d:\n    %s"
                                % (ex, rc, "\n    ".join(out)))
            elif args.verbose:
                print("ok   vcm     examples/%s" % ex)

    # (b) the corpus through both
    corpus = os.path.join(src, "tests", "schema", "corpus")
    base = os.path.join(corpus, "base")
    if not os.path.isfile(os.path.join(base, "site.yaml")):
        failures.append("the corpus base repository %s has no site.yaml" % base)
    base_errs = []
    for rel, full in example_files(base):
        base_errs += ["corpus/base/%s: %s" % (rel, e) for e in schemas.errors(kind_of_example(rel), full)]
    if base_errs:
        failures.append("the corpus base repository fails its schemas:\n    " + "\n    ".join(base_errs))
    with tempfile.TemporaryDirectory(prefix="vcm-schema-") as tmp:
        if args.vcm:
            rc, out = run_vcm(args.vcm, base)
            if rc != 0:
                failures.append("vcm validate rejects the corpus base repository (exit %d):\n    %s"
                                % (rc, "\n    ".join(out)))
        for group, kind, case, path in corpus_cases(corpus):
            counts[group] += 1
            label = "%s/%s/%s" % (group, {v: k for k, v in KINDS.items()}[kind], case)
            desc = case_description(path)
            if kind == "VirtualCluster" and not CASE_NAME.match(case):
                # The case's file name is its cluster name in the base text: a bad name would make
                # the case fail for that reason instead of the one it is about.
                failures.append("corpus case %s: a cluster case needs a valid cluster name as its "
                                "file name (at most 24 characters)" % label)
            spans = []
            errs = schemas.errors(kind, path, spans)
            schema_ok = not errs
            want_schema_ok = group != "bad"
            problems = []
            if schema_ok != want_schema_ok:
                problems.append("schema %s (expected %s)%s" % (
                    "accepts" if schema_ok else "rejects",
                    "accept" if want_schema_ok else "reject",
                    "".join("\n        " + e for e in errs)))
            c_note = ""
            if args.vcm:
                repo, rel = build_repo(base, kind, case, path, tmp)
                rc, out = run_vcm(args.vcm, repo)
                want_c_ok = group == "good"
                sanitizer = [l for l in out if SANITIZER.search(l)]
                if sanitizer:
                    problems.append("vcm validate tripped a sanitizer:\n        "
                                    + "\n        ".join(out[:40]))
                elif rc not in (0, 1):
                    problems.append("vcm validate exited %d (expected 0 or 1)%s"
                                    % (rc, "".join("\n        " + l for l in out)))
                elif (rc == 0) != want_c_ok:
                    problems.append("vcm validate %s (expected %s)%s" % (
                        "accepts" if rc == 0 else "rejects",
                        "accept" if want_c_ok else "reject",
                        "".join("\n        " + l for l in out)))
                elif rc == 1:
                    # A rejection must be reported in the documented format, on the file under
                    # test: an error elsewhere would mean the case rejects for the wrong reason.
                    located = [l for l in out if DIAG_LINE.match(l)]
                    if not located:
                        problems.append("vcm validate rejects without a FILE:LINE:COLUMN: error: line"
                                        + "".join("\n        " + l for l in out))
                    elif not any(DIAG_LINE.match(l).group("file").endswith(rel) for l in located):
                        problems.append("vcm validate rejects, but not on %s:%s" % (
                            rel, "".join("\n        " + l for l in out)))
                    elif group == "bad" and errs and None not in spans:
                        # Both must complain about the same place: some C error line lies inside
                        # the YAML node one of the schema's errors is about. Otherwise the two
                        # reject for different reasons and agree only by accident.
                        c_lines = [int(DIAG_LINE.match(l).group("line")) for l in located
                                   if DIAG_LINE.match(l).group("file").endswith(rel)]
                        if not any(a <= ln <= b for ln in c_lines for a, b in spans):
                            problems.append("schema and vcm validate reject at different places: "
                                            "schema lines %s, vcm lines %s%s" % (
                                                spans, c_lines,
                                                "".join("\n        " + e for e in errs + out)))
                    c_note = located[0] if located else ""
                shutil.rmtree(repo)
            if problems:
                failures.append("DISAGREE %s (%s):\n    %s" % (label, desc, "\n    ".join(problems)))
                print("FAIL %s" % label)
            else:
                print("ok   %-40s %s" % (label, c_note if args.verbose else desc))

    print("\n%d example files, corpus: %d good, %d bad, %d c-only; C side %s"
          % (counts["examples"], counts["good"], counts["bad"], counts["c-only"],
             "checked with " + args.vcm if args.vcm else "NOT checked (no --vcm)"))
    if failures:
        print("\n%d failure(s):" % len(failures))
        for f in failures:
            print("- " + f)
        return 1
    print("all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
