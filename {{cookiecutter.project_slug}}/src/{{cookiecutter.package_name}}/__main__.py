"""Allow ``python -m <package>`` as an alias of the console script."""

from .cli import main

if __name__ == "__main__":
    main()
