"""The exception types the front ends turn into exit codes: 2 for a user's mistake, 1 for a diverged run, 130 for
Ctrl-C."""

from pathlib import Path


class GencliError(Exception):
    """A user-caused problem (bad option, config, checkpoint, corpus, ...).

    The CLI prints its message as one line on stderr and exits with code 2.
    The message should name the file, key or value at fault.
    """


class ParameterError(GencliError):
    """A bad argument to a library function, named by its parameter (or parameters); the CLI names the flag instead."""

    def __init__(self, params: str | tuple[str, ...], problem: str, value: object = None):
        self.params = (params,) if isinstance(params, str) else tuple(params)
        self.problem, self.value = problem, value
        super().__init__(self.render(self.params))

    def render(self, names: list[str] | tuple[str, ...]) -> str:
        """The message under these names for the parameters (the CLI passes its flags): `path x: no such file`."""
        return ", ".join(names) + ("" if self.value is None else f" {self.value}") + f": {self.problem}"


class WriteFailed(GencliError):
    """A file or folder could not be written (a full disk, no permission); what was there before is intact. Exit 1."""

    exit_code = 1


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the checkpoint was left as it was."""


class TrainingInterrupted(Exception):
    """Ctrl-C during training; a resumable state was saved at `path`."""

    def __init__(self, step: int, path: Path):
        super().__init__(f"interrupted at step {step}; resumable state saved to {path} (use --resume)")
        self.step, self.path = step, path
