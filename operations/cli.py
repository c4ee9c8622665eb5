"""The `settlement` command line: the engine's processes and the operators' commands (`settlement --help`)."""

import typer

from operations import operator_commands, order_commands, process_commands

app = typer.Typer(help="Marketplace settlement engine: its processes and the operators' commands.", no_args_is_help=True)
for commands in (process_commands, operator_commands, order_commands):
    app.add_typer(commands.app)


if __name__ == "__main__":
    app()
