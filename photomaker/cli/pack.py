"""`python -m photomaker pack`: an avatar pack from the terminal, and Ctrl-C to cancel it.

The pack is a job (`Jobs.run`) made in a thread of its own while the terminal waits, so Ctrl-C reaches the
terminal's thread and asks "Cancel the pack?":

- `y` or `yes` cancels (`Jobs.cancel`): the avatars under way are finished, what was made is kept and charged,
  the rest refunded; the command prints what it kept and exits 130 (128 + SIGINT, as shells report an
  interrupted command); when nothing was kept, it prints the CANCELLED error and exits 130 too;
- Enter, or any other answer, goes on;
- a second Ctrl-C at the question cancels (twice means stop), and so does an input that has ended (stdin
  closed, or not a terminal: nobody can answer, and an interrupt is the only thing that was asked);
- Ctrl-C once cancelling says so and keeps waiting: the command ends after the books are settled.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from photomaker.cli.generating import CANCELLED_EXIT, add_param_options, print_progress, wait_until_loaded
from photomaker.core.errors import RefusedError
from photomaker.generation.packs import PRESETS
from photomaker.generation.params import PackParams
from photomaker.generation.prompts import STYLES_BY_NAME
from photomaker.images.avatar_files import download_names

if TYPE_CHECKING:
    from photomaker.generation.jobs import Jobs
    from photomaker.generation.results import GenerationOutcome
    from photomaker.startup.runtime import Runtime

T = TypeVar("T")

QUESTION = "Cancel the pack? Avatars made so far are kept and charged, the rest refunded [y/N] "
YES = ("y", "yes")
POLL_S = 0.1
"""How often the terminal's thread looks whether the pack is over (Ctrl-C is heard at once regardless)."""


def ask(question: str) -> str | None:
    """The answer typed on stdin to `question` (asked on stderr), or None when no answer can come."""
    print(question, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    return line or None


class Cancelling:
    """A pack made while the terminal waits: Ctrl-C asks whether to cancel it (see the module's docstring)."""

    def __init__(self, jobs: Jobs, username: str, *, ask: Callable[[str], str | None] = ask) -> None:
        self.jobs = jobs
        self.username = username
        self.ask = ask
        self.cancelled = False
        """Whether the job was told to stop before it ended."""
        self._wanted = False
        self._generation_id: int | None = None
        self._asking = False
        self._lock = threading.Lock()

    def progress(self, fraction: float, message: str) -> None:
        """The job's progress on stderr, held back while the question waits for its answer."""
        if not self._asking:
            print_progress(fraction, message)

    def started(self, generation_id: int) -> None:
        """The job's id, once it is charged: a cancel asked for before now is passed on."""
        with self._lock:
            self._generation_id, wanted = generation_id, self._wanted
        if wanted:
            self._cancel(generation_id)

    def wait(self, make: Callable[[], T]) -> T:
        """`make()` in a thread, the terminal's thread waiting for it; each Ctrl-C meanwhile is `interrupted`."""
        with ThreadPoolExecutor(1, thread_name_prefix="pack") as pool:
            future = pool.submit(make)
            while True:
                try:
                    return future.result(timeout=POLL_S)
                except FutureTimeout:
                    continue
                except KeyboardInterrupt:
                    self.interrupted()

    def interrupted(self) -> None:
        """Ctrl-C: ask whether to cancel, unless that was decided already."""
        if self._wanted:
            print("\nCancelling: waiting for the avatars under way.", file=sys.stderr)
            return
        self._asking = True
        try:
            answer = self.ask("\n" + QUESTION)
        except KeyboardInterrupt:
            answer = None
        finally:
            self._asking = False
        if answer is not None and answer.strip().lower() not in YES:
            print("Going on.", file=sys.stderr)
            return
        if answer is None:
            print(file=sys.stderr)
        print("Cancelling: waiting for the avatars under way.", file=sys.stderr)
        with self._lock:
            self._wanted, generation_id = True, self._generation_id
        if generation_id is not None:
            self._cancel(generation_id)

    def _cancel(self, generation_id: int) -> None:
        try:
            self.jobs.cancel(generation_id, username=self.username)
        except RefusedError as error:  # NOT_RUNNING: it ended meanwhile, whole
            print(f"note: {error.message}", file=sys.stderr)
            return
        self.cancelled = True


def copy_named(outcome: GenerationOutcome, folder: Path) -> list[Path]:
    """Copy the avatars into `folder` under their download names (`cinematic-2.png`); returns the copies."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / name for name in download_names(outcome.details.avatar_styles)]
    for path, target in zip(outcome.images, targets, strict=True):
        shutil.copyfile(path, target)
    return targets


def _pack(runtime: Runtime, args: argparse.Namespace) -> int:
    from photomaker.images.uploaded_photos import PhotoUpload  # the photo checks load the face models

    if args.out is not None and args.out.is_dir() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty; give a new or empty folder for the pack's avatars.", file=sys.stderr)
        return 2
    values = {name: getattr(args, name) for name in PackParams.model_fields if hasattr(args, name)}
    username = args.user or runtime.settings.local_username
    photos = [PhotoUpload.from_path(path) for path in args.photos]
    wait_until_loaded(runtime.service.engine)
    pack = Cancelling(runtime.jobs, username)
    run = partial(
        runtime.jobs.run, username, values, uploads=photos, pack=True, progress=pack.progress, started=pack.started
    )
    outcome = pack.wait(run)  # a pack cancelled before it kept any avatar raises CANCELLED (`main` exits 130)
    targets = outcome.images if args.out is None else copy_named(outcome, args.out)
    print("\n".join(str(target) for target in targets))
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    details = outcome.details
    print(details.model_dump_json(indent=2), file=sys.stderr)
    if not pack.cancelled:
        return 0
    print(
        f"Cancelled: {details.images_kept} of {details.num_images} avatars kept and charged, "
        f"{details.credits_refunded} credits refunded.",
        file=sys.stderr,
    )
    return CANCELLED_EXIT


CTRL_C = (
    "Ctrl-C asks whether to cancel: y cancels (the avatars made are kept and charged, the rest refunded; exit\n"
    "130); Enter goes on; a second Ctrl-C, or an input that has ended, cancels."
)


def _choices() -> str:
    presets = "\n".join(f"  {name}: {', '.join(styles)}" for name, styles in PRESETS.items())
    return f"styles: {', '.join(STYLES_BY_NAME)}\npresets:\n{presets}\n\n{CTRL_C}"


def add_pack(commands: argparse._SubParsersAction) -> None:
    """The `pack` command, its options read from `PackParams`."""
    pack = commands.add_parser(
        "pack",
        help="an avatar pack: several styles from 1-4 photos, one charge",
        description="An avatar pack: --styles (names separated by commas) or --preset, --images-per-style of each.",
        epilog=_choices(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pack.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="1 to 4 photos of one person")
    add_param_options(pack, PackParams)
    pack.add_argument(
        "--out", type=Path, help="copy the avatars into this new or empty folder, named by style: cinematic-1.png, ..."
    )
    pack.add_argument("--user", help="whose credits to use (default: the local user)")
    pack.set_defaults(run=_pack, engines=True)
