"""The root `gencli` app: wires the sub-apps and turns errors into one line and an exit code."""

from __future__ import annotations

import errno
import os
import sys
import traceback

import typer

from gencli import __version__
from gencli.cli import ckpt_cmd, config_cmd, diffusion, lm, report, signals
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


class GencliGroup(FlagsGroup):
    """Runs the app with errors as one readable line: 2 for bad usage or input, 1 for failures."""

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
app.add_typer(diffusion.app, name="diffusion")
app.add_typer(lm.app, name="lm")
app.command("report")(report.report)
app.add_typer(config_cmd.app, name="config")
app.add_typer(ckpt_cmd.app, name="ckpt")


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
