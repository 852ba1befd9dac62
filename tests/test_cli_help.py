"""Help and completion answer at once: no torch or matplotlib is imported for them, and flags show no type."""

import subprocess
import sys

COMMANDS = [
    [],
    ["diffusion"],
    ["lm"],
    ["config"],
    ["report"],
    ["diffusion", "train"],
    ["diffusion", "sample"],
    ["diffusion", "trajectory"],
    ["diffusion", "determinism"],
    ["diffusion", "prob"],
    ["diffusion", "invert"],
    ["diffusion", "schedule"],
    ["lm", "train"],
    ["lm", "generate"],
    ["lm", "invert"],
    ["lm", "attention"],
    ["lm", "prob"],
    ["lm", "compress"],
    ["lm", "decompress"],
    ["config", "show"],
]


def test_help_of_every_command_imports_no_heavy_library():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from gencli.cli.app import app\n"
        f"for args in {COMMANDS!r}:\n"
        "    r = CliRunner().invoke(app, [*args, '--help'], terminal_width=100)\n"
        "    assert r.exit_code == 0, (args, r.output)\n"
        "    assert 'Example' in r.output, args\n"
        "    assert '<bool>' not in r.output, (args, r.output)\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'tokenizers', 'safetensors') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
