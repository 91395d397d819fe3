"""The README's commands are the ones CI and newcomers run."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    commands = _readme_commands()
    assert commands[1] == ci_command, (commands[1], ci_command)


def test_readme_demo_uses_a_bundled_log():
    demo = _readme_commands()[0]
    target = demo.split("sparksword summary ")[1].strip()
    assert (ROOT / target).is_dir(), target
