"""The one exception type for problems a user can cause (exit code 2)."""


class GencliError(Exception):
    """A user-caused problem (bad option, config, checkpoint, corpus, ...).

    The CLI prints its message as one line on stderr and exits with code 2.
    The message should name the file, key or value at fault.
    """
