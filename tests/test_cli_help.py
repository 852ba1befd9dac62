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
        "heavy = ('torch', 'matplotlib', 'tokenizers', 'safetensors', 'pydantic', 'yaml')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_root_help_lists_each_command_by_the_summary_its_own_help_opens_with():
    """`gencli --help` lists the sub-commands without importing their modules; each summary it shows must be the
    first paragraph of that command's own help (a summary left behind by an edited docstring fails here)."""
    from gencli.cli.app import SUBCOMMANDS, load_command

    for name, (_, _, summary) in SUBCOMMANDS.items():
        own = (load_command(name).help or "").strip().split("\n\n")[0]
        assert " ".join(own.split()) == summary, name


def test_root_help_and_one_commands_help_import_only_that_commands_module():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from gencli.cli.app import app\n"
        "r = CliRunner().invoke(app, ['--help'], terminal_width=100)\n"
        "assert r.exit_code == 0 and 'ckpt' in r.output, r.output\n"
        "first = sorted(m for m in sys.modules if m.startswith('gencli.cli.') and m[11:] in "
        "('lm', 'diffusion', 'report', 'config_cmd', 'ckpt_cmd'))\n"
        "r = CliRunner().invoke(app, ['lm', 'train', '--help'], terminal_width=100)\n"
        "assert r.exit_code == 0 and '--max-iters' in r.output, r.output\n"
        "then = sorted(m for m in sys.modules if m.startswith('gencli.cli.') and m[11:] in "
        "('lm', 'diffusion', 'report', 'config_cmd', 'ckpt_cmd'))\n"
        "print(first, then)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] ['gencli.cli.lm']"
