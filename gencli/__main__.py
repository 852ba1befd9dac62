"""Allow `python -m gencli`."""

from gencli.cli.app import main

if __name__ == "__main__":
    main()
