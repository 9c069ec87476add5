"""`shopassist api`: the OpenAI-compatible HTTP API (FastAPI + uvicorn) over an index.

Callers authenticate with API keys (`shopassist keys create ...`) and/or JWTs from the shop's issuer
(`--jwt-issuer` with `--jwt-key-file`); `--trust-user-header` instead believes `X-User-Id` (only behind a
proxy that authenticates). Traces go to the console or OTLP with `--traces` ($SHOPASSIST_TRACES).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ui.commands.serve import add_backend_arguments, load_for_serving, resolve_index


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_backend_arguments(p, 8000)
    p.add_argument("--trust-user-header", action="store_true",
                   help="no authentication: believe the X-User-Id header (only behind an authenticating proxy)")
    p.add_argument("--keys", default=os.environ.get("SHOPASSIST_KEYS"),
                   help="database of API keys (default: the --store database, else $SHOPASSIST_HOME/keys.db)")
    p.add_argument("--jwt-issuer", default=os.environ.get("SHOPASSIST_JWT_ISSUER"), help="accept JWTs from this iss")
    p.add_argument("--jwt-key-file", default=os.environ.get("SHOPASSIST_JWT_KEY_FILE"),
                   help="HS256 secret or PEM public key the JWTs are verified with")
    p.add_argument("--jwt-audience", default=os.environ.get("SHOPASSIST_JWT_AUDIENCE", "shopassist"))
    p.add_argument("--jwt-algorithm", default=os.environ.get("SHOPASSIST_JWT_ALGORITHM", "HS256"),
                   choices=["HS256", "HS384", "HS512", "RS256", "ES256"])
    p.add_argument("--rate-limit", type=int, default=int(os.environ.get("SHOPASSIST_RATE_LIMIT", "120")),
                   help="requests a minute per key or token subject, per replica (0: no limit; a key may set its own)")
    p.add_argument("--traces", default=os.environ.get("SHOPASSIST_TRACES", "none"), choices=["none", "console", "otlp"],
                   help="export OpenTelemetry spans (otlp: to $OTEL_EXPORTER_OTLP_ENDPOINT)")


def keys_target(args: argparse.Namespace) -> str:
    if args.keys:
        return args.keys
    if getattr(args, "sessions", None):
        return args.sessions
    from ui.commands.demo import home_dir

    return str(home_dir() / "keys.db")


def build_auth(args: argparse.Namespace):
    """The Authenticator the flags ask for; None only with --trust-user-header."""
    from ui.auth import ApiKeyStore, Authenticator, JwtConfig, RateLimiter

    if args.trust_user_header:
        return None
    jwt = None
    if args.jwt_issuer:
        if not args.jwt_key_file:
            raise ValueError("--jwt-issuer needs --jwt-key-file (the HS256 secret or the issuer's public key)")
        jwt = JwtConfig(Path(args.jwt_key_file).read_text().strip(), args.jwt_issuer, args.jwt_audience,
                        (args.jwt_algorithm,))
    return Authenticator(ApiKeyStore(keys_target(args)), jwt, RateLimiter(args.rate_limit))


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.agent_assist import AgentModels
    from assistant.telemetry import configure_tracing
    from ui.api import create_app

    from ui.logs import setup_logging

    setup_logging()
    configure_tracing(args.traces)
    auth = build_auth(args)
    if auth is None:
        print("warning: --trust-user-header: every request's X-User-Id is believed; run this only behind a "
              "proxy that authenticates callers and sets that header", file=sys.stderr)
    index_dir = resolve_index(args.index)
    assistant, note = load_for_serving(index_dir, args.backend, args.model, args.base_url, args.sessions,
                                       args.router, args.answer_style)
    agents = AgentModels(assistant.index.store, index_dir / "models", insights=assistant.insights)
    name = f"shopassist-{args.model or args.backend}" if not note else "shopassist-templated"
    uvicorn.run(create_app(assistant, agents, model_name=name, backend_note=note, auth=auth), host=args.host,
                port=args.port, log_level="info")
    return 0
