"""The composition root: the `labourx` command line and the catalogue of services it runs.

The one package that knows both the shared kit and every service; `shared` imports no service and
services import no other service (tests/unit/test_layers.py)."""
