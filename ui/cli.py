"""The `shopassist` command line: one entry point that dispatches to the UI, API, index and eval code.

Each subcommand lives in the module that owns it and exposes `add_arguments(parser)` and
`main(args) -> int`; this file only wires names to modules and imports them lazily, so that
`shopassist index` never pays for Gradio and `shopassist demo` never imports the eval code.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module exposing add_arguments(parser) and main(args)
COMMANDS = {
    "demo": "ui.commands.demo",
    "index": "ui.commands.index",
    "chat": "ui.commands.chat",
    "serve": "ui.commands.serve",
    "api": "ui.commands.api",
    "keys": "ui.commands.keys",
}
EVAL_TASKS = {
    "retrieval": "eval.retrieval_task",
    "dialogues": "eval.dialogues_task",
    "sentiment": "eval.sentiment_task",
    "recommend": "eval.recommend_task",
    "intent": "eval.intent_task",
    "attacks": "eval.attacks_task",
    "simulate": "eval.simulate",
    "shopbench": "eval.shopbench_task",
    "taubench": "eval.taubench_task",
    "report": "eval.report",
    "compare": "eval.compare",
    "console": "eval.console_task",
    "photos": "eval.photos_task",
}
TRAIN_TASKS = {
    "sentiment": "ui.commands.train",
    "recommend": "ui.commands.train",
    "intent": "ui.commands.train",
}
HELP = {
    "demo": "build the demo store and index if missing, then open the shopper UI",
    "index": "ingest a catalog and build a search index",
    "chat": "streaming terminal chat over an index",
    "serve": "Gradio shopper chat and agent console",
    "api": "OpenAI-compatible HTTP API",
    "keys": "create, revoke or list the HTTP API's keys",
}


def _add(sub, name: str, module: str, help_text: str) -> None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (e.name == module or module.startswith(e.name + ".")):
            return  # not built yet in this checkout
        raise
    if not (hasattr(mod, "add_arguments") and hasattr(mod, "main")):
        return  # a module that is not a subcommand (yet)
    p = sub.add_parser(name, help=help_text or (mod.__doc__ or "").strip().splitlines()[0])
    mod.add_arguments(p)
    p.set_defaults(_main=mod.main, _task=name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopassist", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        _add(sub, name, module, HELP.get(name, ""))
    ev = sub.add_parser("eval", help="evaluation tasks (each prints a table and writes JSON)")
    ev_sub = ev.add_subparsers(dest="task", required=True)
    for name, module in EVAL_TASKS.items():
        _add(ev_sub, name, module, "")
    tr = sub.add_parser("train", help="train the insight models of an index")
    tr_sub = tr.add_subparsers(dest="task", required=True)
    for name, module in TRAIN_TASKS.items():
        _add(tr_sub, name, module, f"train the {name} model")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from assistant.pii import install_log_redaction

    install_log_redaction()  # logs never carry emails, phone or card numbers
    try:
        return int(args._main(args) or 0)
    except (FileNotFoundError, ValueError) as e:  # missing index/model files, bad arguments: a message
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
