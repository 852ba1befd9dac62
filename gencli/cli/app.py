"""The root `gencli` app: wires the sub-apps and turns errors into one line and an exit code."""

from __future__ import annotations

import errno
import importlib
import os
import sys
import traceback

import typer
import typer.core
import typer.main

from gencli import __version__
from gencli.cli import signals
from gencli.cli.console import err, error
from gencli.cli.options import FlagsGroup, flags_for, leaf_command
from gencli.core.errors import GencliError, ParameterError

DEBUG_ENV = "GENCLI_DEBUG"

# Typer 0.29 vendors its own click; older releases raise click's exceptions. Catch both.
try:
    import click as _click

    _CLICK_ERRORS: tuple = (_click.ClickException,)
    _EXITS: tuple = (_click.exceptions.Exit,)
    _ABORTS: tuple = (_click.exceptions.Abort,)
except ImportError:  # pragma: no cover
    _CLICK_ERRORS, _EXITS, _ABORTS = (), (), ()
_CLICK_ERRORS += tuple(c for c in (getattr(typer, "TyperException", None),) if c is not None)
_EXITS += (typer.Exit,)
_ABORTS += (typer.Abort,)


# name: (module, "group" or "command": what its Typer `app` is, the line `gencli --help` lists without importing it).
# A command's module is imported and its click command built only when the command is named (or completed):
# `gencli --help` and `gencli lm train --help` import one command module, not all five (tab completion runs the
# program on every key).
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "report": (
        "gencli.cli.report",
        "command",
        "Answer the whole exercise on one page: U1-U6, C1-C6, the bonus and L1-L5, with C7, D1, F1 and L6 beyond it.",
    ),
    "diffusion": (
        "gencli.cli.diffusion",
        "group",
        "The 2D point diffusion model (VE SDE, sigma(t) = exp(5 (t - 1)), eps-predicting MLP), or a flow-matching "
        "model of the same points (--objective flow, flow-ot).",
    ),
    "lm": (
        "gencli.cli.lm",
        "group",
        "The GPT language model (GPT-2 style decoder written here) trained on a text corpus.",
    ),
    "config": ("gencli.cli.config_cmd", "group", "The configs: every key, its default and what it does."),
    "ckpt": ("gencli.cli.ckpt_cmd", "group", "Checkpoints: what one holds."),
}


def load_command(name: str):
    """The click command of sub-command `name`, built from its module's Typer app."""
    module, kind, _ = SUBCOMMANDS[name]
    sub_app = importlib.import_module(module).app
    command = typer.main.get_group(sub_app) if kind == "group" else typer.main.get_command(sub_app)
    command.name = name
    return command


class GencliGroup(FlagsGroup):
    """Runs the app with errors as one readable line: 2 for bad usage or input, 1 for failures. Its sub-commands are
    loaded on first use (SUBCOMMANDS); its own help lists them from their one-line summaries."""

    listing = False  # set while the group's own help is written: commands not loaded yet show as summaries

    def list_commands(self, ctx):
        return [*SUBCOMMANDS, *(c for c in super().list_commands(ctx) if c not in SUBCOMMANDS)]

    def get_command(self, ctx, name):
        if name in SUBCOMMANDS and name not in self.commands:
            if self.listing:
                return typer.core.TyperCommand(name=name, help=SUBCOMMANDS[name][2])
            self.commands[name] = load_command(name)
        return super().get_command(ctx, name)

    def format_help(self, ctx, formatter):
        self.listing = True
        try:
            return super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        signals.install()
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _EXITS as e:
            sys.exit(e.exit_code)
        except _ABORTS:
            err.print(signals.stopped_by(), markup=False)
            sys.exit(signals.interrupted_exit_code())
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
            quiet_stdout()
            sys.exit(0)
        except _CLICK_ERRORS as e:  # bad usage: unknown option, bad value, missing argument
            if type(e).__name__ == "NoArgsIsHelpError":  # `gencli` alone: the help was printed, nothing went wrong
                sys.exit(0)
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            error(f"{e.format_message()}{hint}")
            sys.exit(2)
        except GencliError as e:
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            flags = (
                flags_for(leaf_command(self, list(sys.argv[1:] if args is None else args)), e.params)
                if isinstance(e, ParameterError)
                else None
            )
            code = getattr(e, "exit_code", 2)
            error(e.render(flags) if flags else str(e), code)
            sys.exit(code)
        except KeyboardInterrupt:
            err.print(signals.stopped_by(), markup=False)
            sys.exit(signals.interrupted_exit_code())
        except OSError as e:
            if e.errno == errno.EPIPE:
                quiet_stdout()
                sys.exit(0)
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            error(
                f"{e.strerror or type(e).__name__}: {getattr(e, 'filename', '') or ''} (set {DEBUG_ENV}=1 for the "
                "traceback)",
                code=1,
            )
            sys.exit(1)
        except Exception as e:  # a failure while running: one line, traceback only on request
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            error(f"{type(e).__name__}: {e} (set {DEBUG_ENV}=1 for the traceback)", code=1)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=GencliGroup,
    help="Hands-on generative modelling from the shell: a 2D point diffusion model and a small GPT.\n\n"
    "Example: gencli report --quick (the whole exercise on one page), or gencli diffusion train && gencli diffusion "
    "sample",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"gencli {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """gencli: train, sample, plot and measure generative models from the shell."""


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush into a closed pipe says nothing."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:
        pass


SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def named_shell_completion(argv: list[str]) -> bool:
    """`--install-completion SHELL` or `--show-completion SHELL`: the completion of the shell the user names (Typer's
    own flags guess the current shell). True when it handled the call."""
    if len(argv) != 2 or argv[0] not in ("--install-completion", "--show-completion") or argv[1] not in SHELLS:
        return False
    from typer.completion import get_completion_script, install

    complete_var = "_GENCLI_COMPLETE"
    if argv[0] == "--show-completion":
        print(get_completion_script(prog_name="gencli", complete_var=complete_var, shell=argv[1]))
    else:
        shell, path = install(shell=argv[1], prog_name="gencli", complete_var=complete_var)
        print(f"{shell} completion installed in {path}; it takes effect in a new shell")
    return True


def main() -> None:
    """Console-script entry point."""
    try:
        if named_shell_completion(sys.argv[1:]):
            return
    except BrokenPipeError:
        quiet_stdout()
        return
    app()
