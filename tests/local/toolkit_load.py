"""Builds an endpoint handler as the Hugging Face inference toolkit does, and answers one request body.

Run by `test_endpoint_venv` with the Python of a virtual environment holding only deploy/endpoint's
requirements (this file imports nothing of ours): `python toolkit_load.py REPOSITORY < body.json`.
The toolkit imports `handler.py` from the repository's folder as `handler.EndpointHandler`, with the
folder first on `sys.path`, builds `EndpointHandler(path)` once and calls it with each request's JSON.
The last line printed is JSON: the image's size and a digest of its pixels, where `photomaker` came
from, and which of the app's own dependencies this environment could import (none should be).
"""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

APP_ONLY = ("dlib", "gradio", "sqlmodel", "face_recognition_models")


def main() -> None:
    repository = sys.argv[1]
    spec = importlib.util.spec_from_file_location("handler.EndpointHandler", Path(repository) / "handler.py")
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, repository)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler.EndpointHandler"] = module
    spec.loader.exec_module(module)
    image = module.EndpointHandler(repository)(json.load(sys.stdin))
    print(
        json.dumps(
            {
                "size": list(image.size),
                "pixels": hashlib.sha256(image.tobytes()).hexdigest(),
                "photomaker": sys.modules["photomaker"].__file__,
                "importable": [name for name in APP_ONLY if importlib.util.find_spec(name) is not None],
            }
        )
    )


if __name__ == "__main__":
    main()
