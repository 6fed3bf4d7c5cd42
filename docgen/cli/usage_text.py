"""Click's usage errors in Chinese, on one line, with what to type instead.

Click words its errors in English ("Error: Missing option '--reason'."). The exception says what
went wrong in fields (the parameter, the unknown name, Click's close matches), so the Chinese
message is built from those fields, not by translating Click's sentence; a message Click builds
from a type's own words (a number that is not one, a choice not offered) is reworded from the
few patterns Click uses, and anything else is shown as Click says it after a Chinese lead.
"""

from __future__ import annotations

import re

import click

_NOT_A_NUMBER = re.compile(r"^'?(?P<value>.*?)'? is not a valid (?P<kind>integer|float)")
_NOT_A_CHOICE = re.compile(r"^'?(?P<value>.*?)'? is not one of (?P<choices>.*)\.$")
_NOT_IN_RANGE = re.compile(r"^(?P<value>\S+) is not in the range (?P<range>.*)\.$")
_NO_PATH = re.compile(r"^(?P<kind>File|Directory|Path) '?(?P<path>.*?)'? does not exist\.$")
_EXTRA = re.compile(r"^Got unexpected extra arguments? \((?P<args>.*)\)$")
_NEEDS_VALUE = re.compile(r"^Option '(?P<name>[^']+)' requires an argument\.$")


def _command(exc: click.UsageError) -> str:
    return exc.ctx.command_path if exc.ctx is not None else "docgen"


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.human_readable_name or param.name or "参数").upper()


def _type_problem(message: str) -> str:
    """Click's words for a value its type refused, in Chinese when they are Click's own."""
    if match := _NOT_A_NUMBER.match(message):
        kind = "整数" if match["kind"] == "integer" else "数字"
        return f"“{match['value']}”不是{kind}"
    if match := _NOT_A_CHOICE.match(message):
        choices = match["choices"].replace("'", "").replace(", ", "、").replace(" or ", "、")
        return f"“{match['value']}”不可用,只能是 {choices}"
    if match := _NOT_IN_RANGE.match(message):
        return f"{match['value']} 超出范围 {match['range']}"
    if match := _NO_PATH.match(message):
        kind = {"File": "文件", "Directory": "目录", "Path": "路径"}[match["kind"]]
        return f"{kind}“{match['path']}”不存在"
    return message


def chinese_usage(exc: click.UsageError) -> str:
    """One line saying what is wrong with the command line and what to type instead."""
    command = _command(exc)
    see = f"用法见 {command} --help"
    if isinstance(exc, click.MissingParameter):
        name = _param_name(exc.param)
        kind = "选项" if isinstance(exc.param, click.Option) else "参数"
        return f"{command} 缺少{kind} {name}。请补上 {name};{see}"
    if isinstance(exc, click.NoSuchOption):
        guess = f"是否想用 {'、'.join(exc.possibilities)}?" if exc.possibilities else ""
        return f"{command} 没有选项 {exc.option_name}。{guess}{see}"
    if isinstance(exc, click.NoSuchCommand):
        guess = f"是否想用 {'、'.join(exc.possibilities)}?" if exc.possibilities else ""
        return f"没有命令“{exc.command_name}”。{guess}全部命令见 {command} --help"
    if isinstance(exc, click.BadOptionUsage) and (match := _NEEDS_VALUE.match(exc.message)):
        return f"选项 {match['name']} 后面需要一个值。{see}"
    if isinstance(exc, click.BadParameter):
        name = _param_name(exc.param)
        return f"{command} 的 {name} 值无效:{_type_problem(exc.message)}。{see}"
    if match := _EXTRA.match(exc.message):
        return f"{command} 多了参数 {match['args']}。{see}"
    if exc.message == "Missing command.":
        return f"{command} 后面需要一个子命令。{see}"
    return f"命令行有误:{exc.message}。{see}"


HELP_OPTION_TEXT = "显示本帮助并退出"
VERSION_OPTION_TEXT = "显示版本号并退出"


def chinese_help_options(command: click.Command) -> None:
    """Describe ``--help`` in Chinese on ``command`` and every command under it.

    Click makes the help option itself, lazily, with the English "Show this message and exit.";
    wrapping each command's ``get_help_option`` rewords the option Click makes (and caches), so
    commands need no class or decorator of their own and new ones are covered by the walk.
    """
    make = command.get_help_option

    def get_help_option(ctx: click.Context) -> click.Option | None:
        option = make(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    setattr(command, "get_help_option", get_help_option)  # noqa: B010 (an instance's method)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            chinese_help_options(sub)
