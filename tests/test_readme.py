"""Every ```python block of README.md runs, in order, in one namespace (the tour must not rot)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 8
    ns: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md[python block {i}]", "exec"), ns)
