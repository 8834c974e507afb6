"""The ``mira`` console script.

Sub-commands live next to the code they drive and are imported lazily, so ``mira --help`` is fast
and a command whose module (or optional extra) is absent is simply not listed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import click

from mira.command import Context
from mira.contracts import CONTRACTS
from mira.logs import setup_logging

# command name -> "module:attribute"; listed only when the module can be found.
COMMANDS: dict[str, str] = {
    "corpus": "mira.corpus.cli:corpus",
    "services": "mira.services.cli:services",
    "produce": "producer.cli:produce",
    "discover": "discovery.cli:discover",
    "distill": "discovery.distill.cli:distill",
    "export": "discovery.export.cli:export",
    "filter": "scorer.filter_cli:filter_cmd",
    "score": "scorer.cli:score",
    "demo": "mira.demo:demo",
}


def _available(target: str) -> bool:
    module = target.split(":", 1)[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name, target in COMMANDS.items() if _available(target)]
        return sorted(set(super().list_commands(ctx)) | set(lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and _available(COMMANDS[cmd_name]):
            module, attr = COMMANDS[cmd_name].split(":", 1)
            cmd = getattr(importlib.import_module(module), attr)
            assert isinstance(cmd, click.Command)
            return cmd
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path), help="YAML or TOML settings file.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("--log-json/--no-log-json", default=None, help="Log one JSON object per line.")
@click.version_option(package_name="mira")
@click.pass_context
def main(
    ctx: click.Context, config: Path | None, log_level: str | None, log_json: bool | None
) -> None:
    """mira: source-aware data selection for LLM mid-training."""
    obj = Context(config, log_level, log_json)
    ctx.obj = obj
    settings = obj.settings()
    setup_logging(settings.log.level, settings.log.json_format)


@main.command()
@click.argument("name", required=False, type=click.Choice(sorted(CONTRACTS)))
def schema(name: str | None) -> None:
    """Print the JSON Schema of a contract (all of them without NAME)."""
    names = [name] if name else sorted(CONTRACTS)
    out = {n: CONTRACTS[n].model_json_schema() for n in names}
    click.echo(json.dumps(out[name] if name else out, indent=2))


def run() -> None:
    """Console-script entry point."""
    main(prog_name="mira")


if __name__ == "__main__":
    run()
