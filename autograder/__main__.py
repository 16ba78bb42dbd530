import sys

# Start-up: jsonschema (through nbformat) imports rfc3987_syntax when it can, which
# compiles 39 grammars (2.5 s or more on 2 cores) for one IRI format check that
# notebooks never use.  Marking it absent makes jsonschema skip that checker.
sys.modules.setdefault("rfc3987_syntax", None)

from .cli import main  # noqa: E402

sys.exit(main())
