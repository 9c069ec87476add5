"""`shopassist keys create|revoke|list --store DB`: manage the HTTP API's keys (stored hashed; ui/auth.py).

    shopassist keys create --store postgresql://... --user U1          # a shopper's key
    shopassist keys create --store postgresql://... --role service     # the agent console's key
    shopassist keys revoke --store postgresql://... --id KEY_ID
"""
from __future__ import annotations

import argparse
import os


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("--id", dest="key_id", help="the key to revoke")
    p.add_argument("--store", "--keys", dest="keys",
                   default=os.environ.get("SHOPASSIST_KEYS") or os.environ.get("SHOPASSIST_STORE"),
                   help="the keys database: the API's --store (SQLite file or postgresql:// URL)")
    p.add_argument("--user", help="the user a key signs in as")
    p.add_argument("--role", default="user", choices=["user", "service"])
    p.add_argument("--rate-limit", type=int, help="this key's requests a minute (default: the API's --rate-limit)")


def main(args: argparse.Namespace) -> int:
    from ui.auth import ApiKeyStore
    from ui.commands.api import keys_target

    action = args.action
    if action == "revoke" and not args.key_id:
        raise ValueError("say which key: `keys revoke --id KEY_ID`")
    store = ApiKeyStore(keys_target(argparse.Namespace(keys=args.keys)))
    if action == "create":
        key_id, key = store.create(args.user, args.role, args.rate_limit)
        print(f"key id {key_id} ({args.role}{' ' + args.user if args.user else ''}); the key, shown once:\n{key}")
    elif action == "revoke":
        if not store.revoke(args.key_id):
            raise ValueError(f"no active key {args.key_id!r}")
        print(f"revoked {args.key_id}")
    else:
        for k in store.list():
            print(f"{k.key_id}  {k.role:8s} {k.user_id or '-':12s} rate={k.rate_per_min or 'default'}"
                  f"{'  REVOKED' if k.revoked else ''}")
    return 0
