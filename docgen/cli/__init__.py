"""Command-line layer: parse options, call one library function, render the result.

Each command lives in its own module of this package and is registered in :data:`COMMANDS`.
Library modules never import click and never print.
"""

from __future__ import annotations

import importlib
import sys

import click

from docgen.cli.common import run_cli
from docgen.cli.usage_text import VERSION_OPTION_TEXT, chinese_help_options

# (module, attribute) of every top-level command, in the order --help lists them.
COMMANDS: list[tuple[str, str]] = [
    ("docgen.cli.demo_cmd", "demo"),
    ("docgen.cli.init_cmd", "init"),
    ("docgen.cli.generate_cmd", "generate_command"),
    ("docgen.cli.pdf_cmd", "pdf"),
    ("docgen.cli.show_cmd", "show"),
    ("docgen.cli.sign_cmd", "sign"),
    ("docgen.cli.status_cmd", "status"),
    ("docgen.cli.status_cmd", "void"),
    ("docgen.cli.roster", "roster"),
    ("docgen.cli.pairings", "pairings"),
    ("docgen.cli.keys", "keys"),
    ("docgen.cli.registry_cmd", "registry"),
    ("docgen.cli.activity", "activity"),
    ("docgen.cli.duties", "duties"),
    ("docgen.cli.report", "report"),
    ("docgen.cli.verify", "verify"),
    ("docgen.cli.archive", "archive"),
    ("docgen.cli.serve_cmd", "serve"),
]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    package_name="docgen", message="docgen %(version)s", help=VERSION_OPTION_TEXT
)
def cli() -> None:
    """docgen:党风廉政建设责任书、承诺书的生成、数字签名、登记、验证与归档。

    一月份的工作顺序:init → roster check → generate → keys → sign → status →
    verify → archive → report。

    每个命令都可以加 --help 查看说明;出错时加 --verbose 可显示程序内部的详细出错位置。
    """


for _module, _attr in COMMANDS:
    cli.add_command(getattr(importlib.import_module(_module), _attr))
chinese_help_options(cli)


def main() -> None:
    sys.exit(run_cli(cli))
