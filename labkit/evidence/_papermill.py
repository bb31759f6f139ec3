"""``python -m labkit.evidence._papermill``: papermill's own command line, started faster.

Importing nbformat imports jsonschema, which builds about 40 parser grammars for its
optional ``rfc3987_syntax`` IRI format checker at import time: 4 s of CPU per process
on this class of machine, paid by every notebook of a run. Notebooks never use that
format, so the checker is left out before papermill imports nbformat.
"""

import sys


def skip_iri_checker() -> None:
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


if __name__ == "__main__":
    skip_iri_checker()
    from papermill.cli import papermill

    papermill(prog_name="papermill")
