"""Policy bundles: discovery, data merging, METADATA, digests."""

from __future__ import annotations

import json

import pytest

from gate.errors import PolicyError, UsageError
from gate.policy import PolicyModule, default_policy_dir, load_bundle, parse_metadata

RULE = """# METADATA
# title: No root
# description: Images must not run as root.
# custom:
#   id: my-root
#   severity: high
#   remediation: Add USER.
package gate.mine

import rego.v1

deny contains {"id": "my-root", "msg": "root"} if input.image.user == ""
"""


def make_pack(tmp_path):
    (tmp_path / "gate").mkdir()
    (tmp_path / "gate" / "mine.rego").write_text(RULE)
    (tmp_path / "gate" / "mine_test.rego").write_text("package gate.mine_test\n")
    (tmp_path / "data.json").write_text(
        json.dumps({"gate_config": {"a": 1, "nested": {"x": 1, "y": 2}}})
    )
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.rego").write_text("not rego")
    return tmp_path


def test_loads_modules_without_tests_and_merges_data_files(tmp_path):
    pack = make_pack(tmp_path)
    extra = tmp_path / "org.yaml"
    extra.write_text("gate_config:\n  nested:\n    y: 3\n  b: [1]\n")
    bundle = load_bundle([pack], [extra])
    assert [m.path for m in bundle.modules] == [str(pack / "gate" / "mine.rego")]
    assert bundle.data == {"gate_config": {"a": 1, "nested": {"x": 1, "y": 3}, "b": [1]}}
    assert [p for p, _ in bundle.files] == [
        str(pack / "data.json"),
        str(pack / "gate" / "mine.rego"),
        str(extra),
    ]


def test_tests_are_loaded_on_request(tmp_path):
    bundle = load_bundle([make_pack(tmp_path)], include_tests=True)
    assert any(m.path.endswith("mine_test.rego") for m in bundle.modules)


def test_digest_changes_with_any_policy_or_data_byte(tmp_path):
    pack = make_pack(tmp_path)
    first = load_bundle([pack]).digest
    assert load_bundle([pack]).digest == first
    (pack / "data.json").write_text(json.dumps({"gate_config": {"a": 2}}))
    second = load_bundle([pack]).digest
    (pack / "gate" / "mine.rego").write_text(RULE + "\n")
    assert len({first, second, load_bundle([pack]).digest}) == 3


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        (lambda p: None, PolicyError, "no Rego policies found"),
        (lambda p: (p / "data.json").write_text("[1]"), PolicyError, "must be a JSON/YAML object"),
        (lambda p: (p / "data.json").write_text("{"), PolicyError, "invalid data document: line 1"),
    ],
    ids=["empty-dir", "data-not-object", "data-invalid"],
)
def test_bad_bundles(tmp_path, setup, error, message):
    setup(tmp_path)
    with pytest.raises(error, match=message):
        load_bundle([tmp_path])


def test_missing_policy_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        load_bundle([tmp_path / "nope"])


def test_metadata_blocks_are_read_without_the_engine():
    [info] = parse_metadata(PolicyModule("p/mine.rego", RULE))
    assert (info.id, info.title, info.severity, info.remediation, info.package, info.line) == (
        "my-root",
        "No root",
        "high",
        "Add USER.",
        "gate.mine",
        1,
    )


def test_invalid_metadata_yaml_names_file_and_line():
    text = "package gate.x\n\n# METADATA\n# title: ok\n# description: [unclosed\n# custom: {}\n"
    with pytest.raises(PolicyError) as caught:
        parse_metadata(PolicyModule("x.rego", text))
    # the line where the YAML goes wrong, not just where the block starts
    assert caught.value.where is not None and caught.value.where.startswith("x.rego:")
    assert int(caught.value.where.split(":")[1]) > 3
    assert "not valid YAML" in caught.value.message


def test_default_pack_is_found():
    directory = default_policy_dir()
    assert (directory / "data.json").is_file()
    assert list(directory.rglob("*.rego"))
