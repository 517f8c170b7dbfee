import sys

from photomaker.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
