"""The ``agentkit`` command (typer). Sub-commands register here: ``agentkit eval ...``.

Errors print as one line plus a hint, and exit with status 1; ``agentkit --debug ...``
shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from agentkit.core.errors import AgentkitError, MissingDependencyError, RunError, UsageError

DEBUG_KEY = "agentkit.debug"


def hint_for(exc: BaseException) -> str:
    """The hint line printed under an error."""
    if isinstance(exc, MissingDependencyError):
        return "install the package named above, then run the command again"
    if isinstance(exc, UsageError):
        return (
            "fix the argument, file or spec named above (see --help); --debug shows the traceback"
        )
    if isinstance(exc, RunError | OSError):
        return "rerun with --debug for the traceback"
    return "this looks like a bug in agentkit: rerun with --debug and report the traceback"


def interrupted_message(command: str | None) -> str:
    """What Ctrl+C prints: how to pick the work up again with ``command``."""
    if command == "ingest":
        return (
            "Interrupted. What was committed stays in the index: run the same agentkit ingest "
            "command again to continue (files already indexed are not embedded again)."
        )
    if command == "eval":
        return (
            "Interrupted. An eval run continues with the same command plus --resume "
            "(and --out <its run folder>)."
        )
    if command == "finetune":
        return "Interrupted. Training continues from its last checkpoint with --resume."
    return "Interrupted."


def report_error(exc: BaseException) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if isinstance(exc, AgentkitError | OSError):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    from agentkit.commands.common import printable

    console.print(f"Error: {printable(' '.join(message.split()))}", markup=False)
    console.print(f"Hint: {hint_for(exc)}", markup=False)


def _cli_exceptions() -> tuple[type[BaseException], ...]:
    """The exceptions typer/click handle themselves (exit, abort, bad usage); typer may
    vendor click, so they are found through typer."""
    found: list[type[BaseException]] = [typer.Exit, typer.Abort]
    found += [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    return tuple(found)


PASS_THROUGH = _cli_exceptions()


class AgentkitGroup(TyperGroup):
    """Turns exceptions from any sub-command into a one-line error and a hint."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PASS_THROUGH:
            raise
        except BrokenPipeError:  # the reader went away (`agentkit ... | head`): stop quietly
            _silence_stdout()
            raise typer.Exit(141) from None
        except KeyboardInterrupt:
            message = interrupted_message(ctx.invoked_subcommand)
            Console(stderr=True).print(message, markup=False)
            raise typer.Exit(130) from None
        except Exception as exc:
            if ctx.meta.get(DEBUG_KEY):
                raise
            report_error(exc)
            raise typer.Exit(1) from exc


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass


app = typer.Typer(
    name="agentkit",
    cls=AgentkitGroup,
    help="agentkit: chains, retrieval, agents and evaluation for LLM applications.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from agentkit import __version__

        typer.echo(f"agentkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """agentkit command line."""
    ctx.meta[DEBUG_KEY] = debug


def _register() -> None:
    from agentkit.commands import register_all
    from agentkit.evals.cli import eval_app

    app.add_typer(eval_app, name="eval")
    register_all(app)


_register()


def main() -> None:
    """Entry point of the ``agentkit`` console script."""
    app()


if __name__ == "__main__":
    main()
