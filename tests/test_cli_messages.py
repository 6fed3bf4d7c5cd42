"""Every message a user sees is Chinese, one line, exit 2 for a usage error — Click's own too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docgen.core.workspace import config_text
from docgen.roster.example import demo_roster_yaml
from tests.helpers import run_docgen


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["void", "X"], "错误:docgen void 缺少选项 --reason。请补上 --reason;用法见 docgen void"),
        (["sgin"], "错误:没有命令“sgin”。是否想用 sign?全部命令见 docgen --help"),
        (["sign"], "错误:docgen sign 缺少选项 --as。请补上 --as;用法见 docgen sign --help"),
        (["verify", "--jobs", "abc", "x"], "错误:docgen verify 的 --jobs 值无效:“abc”不是整数。"),
        (["status", "--bogus"], "错误:docgen status 没有选项 --bogus。用法见 docgen status --help"),
        (["roster", "import"], "错误:docgen roster import 缺少参数"),
    ],
)
def test_click_usage_errors_are_chinese(args: list[str], expected: str) -> None:
    outcome = run_docgen(*args)
    assert outcome.code == 2
    assert outcome.out == ""
    assert outcome.err.startswith(expected), outcome.err
    assert outcome.err.count("\n") == 1  # one line
    for english in ("Error", "Missing", "Usage:", "No such"):
        assert english not in outcome.err


def run_in_process(args: list[str], cwd: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """The real entry point with a pipe (no terminal) on standard input."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCGEN_")}
    env["DOCGEN_NOW"] = "2027-01-04T09:00:00+08:00"
    return subprocess.run(
        [sys.executable, "-m", "docgen", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "docgen.toml").write_text(config_text("庆城县人民检察院", 2027), encoding="utf-8")
    (root / "roster.yaml").write_text(demo_roster_yaml(), encoding="utf-8")
    return root


def test_passphrases_typed_twice_differently_without_a_terminal(ws: Path) -> None:
    done = run_in_process(["keys", "init-ca"], ws, "第一个口令-abc123\n第二个口令-xyz789\n")
    assert done.returncode == 2, done.stderr
    assert "两次输入的" in done.stderr and "不一致" in done.stderr
    assert "请再输入一次" in done.stderr
    for english in ("Repeat for confirmation", "do not match", "GetPassWarning", "Warning"):
        assert english not in done.stderr
    assert not (ws / "keys" / "ca" / "ca.key").exists()


def test_passphrase_from_a_pipe_without_getpass_warning(ws: Path) -> None:
    typed = "同一个口令-abc123\n同一个口令-abc123\n"
    done = run_in_process(["keys", "init-ca"], ws, typed)
    assert done.returncode == 0, done.stderr
    assert "GetPassWarning" not in done.stderr and "Warning" not in done.stderr
    assert "同一个口令" not in done.stdout + done.stderr  # never echoed
    assert (ws / "keys" / "ca" / "ca.key").exists()


def test_end_of_input_at_a_prompt_says_how_to_give_the_passphrase(ws: Path) -> None:
    """No terminal and nothing piped in: not a bare "已取消。" (new-user report item 6) but how
    to give the CA passphrase, as a usage error."""
    done = run_in_process(["keys", "init-ca"], ws, "")
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("错误:") and "DOCGEN_CA_PASSPHRASE" in last
    assert "--ca-passphrase-file" in last
    assert "Aborted" not in done.stderr and "已取消" not in done.stderr


def test_several_people_issued_at_one_sitting_each_type_their_own_passphrase(ws: Path) -> None:
    """One CA unlock for the list; each person is asked for their own passphrase in turn."""
    from docgen.signing.keyfiles import load_private_key, person_paths
    from docgen.signing.passphrase import Passphrase

    ca = "根证书口令-ca-123456\n"
    assert run_in_process(["keys", "init-ca"], ws, ca * 2).returncode == 0
    typed = ca + "张的口令-aaa111\n" * 2 + "李的口令-bbb222\n" * 2
    args = ["keys", "issue", "--person", "P001", "--person", "P002", "--no-activation"]
    done = run_in_process(args, ws, typed)
    assert done.returncode == 0, done.stderr
    assert "P001 张明远 的新私钥口令(请本人输入)" in done.stderr
    assert "P002 李卫东 的新私钥口令(请本人输入)" in done.stderr
    assert "口令-aaa111" not in done.stdout + done.stderr
    keys = ws / "keys"
    own = Passphrase("张的口令-aaa111".encode(), "测试")
    other = Passphrase("李的口令-bbb222".encode(), "测试")
    load_private_key(person_paths(keys, "P001").key, own)
    load_private_key(person_paths(keys, "P002").key, other)
    with pytest.raises(Exception, match="口令"):
        load_private_key(person_paths(keys, "P001").key, other)


def test_init_says_how_to_replace_the_example_roster(tmp_path: Path) -> None:
    """The first roster import replaces init's example roster, so the hint names --force."""
    outcome = run_docgen("init", str(tmp_path / "新工作目录"))
    assert outcome.code == 0, outcome.text
    assert "docgen roster import 人员表.xlsx --force" in outcome.out
