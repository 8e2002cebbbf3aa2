"""The ``edgeseg`` command line: a thin Typer layer over the library.

Each command lives in its own module, parses options, calls one library function and formats the
result. Exceptions become exit codes here and only here (:class:`~edgeseg.errors.ExitCode`):
known errors (:class:`~edgeseg.errors.EdgesegError`) and the parser's usage errors (a value that
is not a number, an unknown option) are one line on stderr and exit 2, anything
else is an internal error, exit 1. ``--debug`` (anywhere on the command line) prints the
traceback as well, with the same exit code. A command whose artifacts failed exits 3 itself.
Third-party warnings, logs and native stderr are kept off the terminal here, once, for every
command (:func:`edgeseg.noise.captured`); ``--debug`` or ``--verbose`` shows them.
"""

from __future__ import annotations

import sys
import traceback

import typer

import edgeseg
from edgeseg import noise
from edgeseg.cli import android_demo as android_demo_cmd
from edgeseg.cli import bench as bench_cmd
from edgeseg.cli import devices as devices_cmd
from edgeseg.cli import distill as distill_cmd
from edgeseg.cli import eval as eval_cmd
from edgeseg.cli import export as export_cmd
from edgeseg.cli import models as models_cmd
from edgeseg.cli import quickstart as quickstart_cmd
from edgeseg.cli import train as train_cmd
from edgeseg.errors import EdgesegError, ExitCode

try:  # newer Typer parses with its own copy of click, older Typer with click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click import exceptions as click_errors

app = typer.Typer(
    name="edgeseg",
    help="Semantic segmentation from training to phones.",
    epilog=ExitCode.epilog(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.command("train")(train_cmd.train)
app.command("distill")(distill_cmd.distill)
app.command("eval")(eval_cmd.eval_checkpoint)
app.command("export")(export_cmd.export)
app.command("models")(models_cmd.models)
app.command("quickstart")(quickstart_cmd.quickstart)
app.command("devices")(devices_cmd.devices)
app.command("bench")(bench_cmd.bench)
app.add_typer(android_demo_cmd.app, name="android-demo")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"edgeseg {edgeseg.__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version"
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks and third-party output (anywhere)"
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show third-party warnings and logs (anywhere)"
    ),
) -> None:
    """Semantic segmentation from training to phones."""


def error_line(exc: BaseException) -> str:
    """One line for the user, even when a DataLoader worker re-wrapped the original error."""
    text = str(exc).strip()
    if "Original Traceback" in text:
        last = text.splitlines()[-1]
        text = last.split(": ", 1)[1] if ": " in last else last
    return text.splitlines()[0] if text else type(exc).__name__


def usage_line(exc: click_errors.UsageError, args: list[str]) -> str:
    """Click's message on one line (it may wrap), the value it refused (its newer messages leave
    that out) and where to read the command's options."""
    text = " ".join(exc.format_message().split())
    opts = getattr(getattr(exc, "param", None), "opts", [])
    if isinstance(exc, click_errors.BadParameter) and (value := _value_given(args, opts)):
        text = f"{text.rstrip('.')}: got {value!r}"
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return f"{text}{where}"


def _value_given(args: list[str], opts: list[str]) -> str | None:
    """The last value given to an option (``--opt VALUE`` or ``--opt=VALUE``), as typed."""
    value = None
    for i, arg in enumerate(args):
        name, sep, inline = arg.partition("=")
        if name in opts:
            value = inline if sep else (args[i + 1] if i + 1 < len(args) else None)
    return value


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code (:class:`ExitCode`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug, verbose = "--debug" in args, "--verbose" in args
    args = android_demo_cmd.bare_flags([a for a in args if a not in ("--debug", "--verbose")])
    with noise.captured(enabled=not (debug or verbose)) as hidden:
        code = _run(args, debug)
    if code == ExitCode.INTERNAL and (hint := hidden.hint()):
        typer.echo(hint, err=True)
    return code


def empty_path(args: list[str]) -> str | None:
    """The error line for a path option given as '' (``--out ''``), else None. Typer turns an
    empty path into '.', so ``train --out ''`` would write into the current folder and ``bench
    --json ''`` would blame a folder nobody named; it is refused before parsing instead.
    Only a command line with an empty value pays for walking the command tree."""
    if not any(arg == "" or arg.endswith("=") for arg in args):
        return None
    import typer.main

    command, path = typer.main.get_command(app), ["edgeseg"]
    for arg in args:  # descend through the command names given (android-demo add, …)
        sub = getattr(command, "commands", {}).get(arg)
        if sub is None and not arg.startswith("-"):
            break
        if sub is not None:
            command, path = sub, [*path, arg]
    for param in getattr(command, "params", []):
        kind = str(getattr(param, "bare_type", lambda: "")())
        option = param.param_type_name == "option" and kind.endswith("Path")
        if option and _value_given(args, param.opts) == "":
            return (
                f"Invalid value for '{param.opts[0]}': an empty path; name a file or "
                f"folder (see '{' '.join(path)} --help')"
            )
    return None


def _run(args: list[str], debug: bool) -> int:
    """The command, its exceptions mapped onto :class:`ExitCode`."""
    if message := empty_path(args):
        typer.echo(f"error: {message}", err=True)
        return ExitCode.BAD_INPUT
    try:
        code = app(args=args, prog_name="edgeseg", standalone_mode=False)
    except click_errors.UsageError as exc:  # a flag's value, a missing argument, an unknown command
        if not isinstance(exc, click_errors.NoArgsIsHelpError):  # its help is printed already
            typer.echo(f"error: {usage_line(exc, args)}", err=True)
        return ExitCode.BAD_INPUT
    except SystemExit as exc:  # a polite signal (edgeseg.atomic.Terminated: 128 + signal)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except EdgesegError as exc:
        _traceback(debug)
        typer.echo(f"error: {error_line(exc)}", err=True)
        return ExitCode.BAD_INPUT
    except Exception as exc:  # a bug, not a user error: still one line unless --debug
        _traceback(debug)
        hint = "" if debug else " (rerun with --debug for the traceback)"
        typer.echo(f"internal error: {type(exc).__name__}: {error_line(exc)}{hint}", err=True)
        return ExitCode.INTERNAL
    return code if isinstance(code, int) else ExitCode.OK  # typer.Exit(n) returns n here


def _traceback(debug: bool) -> None:
    """``--debug`` adds the traceback of the exception being handled; the exit code stays."""
    if debug:
        traceback.print_exc(file=sys.stderr)


def run() -> None:
    sys.exit(main())
