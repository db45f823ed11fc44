"""The README is the front door: its two set-up commands and the commands it shows are real."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stagebox.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    blocks = re.findall(r"```\n(.*?)\n```", README, flags=re.S)
    assert ".ci/setup && .venv/bin/stagebox demo" in blocks
    assert ".ci/setup && .venv/bin/python -m pytest" in blocks
    found = subprocess.run(
        ["bash", "-c", 'grep -m1 -E "^\\.ci/setup && \\.venv/bin/python -m pytest" README.md'],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert found == ".ci/setup && .venv/bin/python -m pytest"
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def shown_commands():
    """Every `stagebox WORD [WORD]` the README shows, as argv prefixes."""
    code = re.findall(r"```\n(.*?)\n```", README, flags=re.S)
    code += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    commands = set()
    for text in code:
        for m in re.finditer(r"(?:^|[\s/|;])stagebox ((?:[a-z]+)(?: [a-z]+)?)", text, flags=re.M):
            commands.add(tuple(m.group(1).split()))
    return sorted(commands)


@pytest.mark.parametrize("argv", shown_commands(), ids=" ".join)
def test_readme_commands_exist(argv):
    parser = build_parser()
    words = list(argv)
    # `stagebox cue next`, `stagebox takes list`: keep the words the parser knows as commands.
    while words:
        try:
            with pytest.raises(SystemExit) as exit_info:
                parser.parse_args([*words, "--help"])
        except Exception:
            words = words[:-1]
            continue
        if exit_info.value.code == 0:
            return
        words = words[:-1]
    pytest.fail(f"README shows `stagebox {' '.join(argv)}` but there is no such command")


def test_python_m_stagebox_works():
    r = subprocess.run(
        [sys.executable, "-m", "stagebox", "--version"], capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.startswith("stagebox ")
