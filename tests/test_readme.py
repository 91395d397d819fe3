"""The README's commands are the ones CI and newcomers run."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    commands = _readme_commands()
    assert commands[1] == ci_command, (commands[1], ci_command)


def test_readme_demo_command_runs_the_demo_on_a_bundled_log(tmp_path):
    demo = _readme_commands()[0]
    assert demo.endswith("sparksword demo")
    done = subprocess.run(
        [sys.executable, "-m", "sparksword_nb.cli", "demo", "--no-cache"], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "skewed_join" in done.stdout and "Traceback" not in done.stderr
    # the demo says where all of its 7.5 s went, and how much of it the findings explain
    assert "Where the time went" in done.stdout and "before the first job" in done.stdout
    assert "The findings explain" in done.stdout
    assert (tmp_path / "sparksword-demo-report.html").stat().st_size > 0
