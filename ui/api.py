"""The OpenAI-compatible HTTP API over the assistant (FastAPI): any OpenAI client can talk to the shop.

Endpoints
- `POST /v1/chat/completions`: the last message (role `user`) is the turn; earlier messages are the
  client's copy of the conversation, which the server keeps itself per session. `stream: true` answers
  with server-sent events (`chat.completion.chunk`, then `data: [DONE]`).
  The last user message may carry one image as an `image_url` content part (a data URL; remote URLs
  are refused, nothing is fetched): OCR reads the product on it and the turn searches for it
  (assistant.photo); the reading shows as a `read_image_text` tool step.
- `GET /v1/models`, `GET /healthz`.
- `POST /v1/suggest-replies`: the agent console's analysis and three grounded reply suggestions for
  `{"conversation_id": "C001"}` or `{"conversation": {"user_id": ..., "messages": [{"role": "customer",
  "text": ...}]}}`; `"phrase": true` lets the LLM reword them (checked against the facts).

Who is signed in: with authentication (ui/auth.py, the default of `shopassist api`) the user of the
caller's API key or token (a service key may name the shopper it acts for); in the header-trusting mode
(`--trust-user-header`) the request's `user` field, else the `X-User-Id` header (no user: a guest, who has
no orders or history). Operations endpoints: `/livez`, `/readyz`, `/metrics` (ui/operations.py). The session is `X-Session-Id` for that user, else derived from the user and the
conversation's first user message (a new session when the client's history no longer matches ours).

Extension: the completion (and, when streaming, the final chunk) carries `"shopassist": {...}` with
`session_id`, `user`, `intent`, `lang`, `products` (the cards shown), `tool_calls` (name, arguments, ms,
error), `refused`, `no_match`, `comparison`, `review_summary`, `cart` and `timings`; streamed tool steps
arrive as chunks with an empty delta and `"shopassist": {"tool": {...}}`. Clients that do not know the
field ignore it. Errors are OpenAI-shaped JSON: `{"error": {"message", "type", "param", "code"}}`, also for
unknown routes and methods (ui/api_errors.py); a `model` other than the served one is a 404
`model_not_found`, as OpenAI servers answer. A stream forwards each text piece the engine yields at once.

A leaf: it translates HTTP to `Assistant.stream` events and back, nothing more.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterator

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.agent_assist import AgentModels, analyse_conversation, suggest_replies
from assistant.engine import MAX_INPUT_CHARS, Assistant, DoneEvent, TextEvent, ToolEvent
from assistant.photo import PhotoSearch, stream_with_image
from assistant.session import Session
from ui.auth import Authenticator, caller, requested_user
from ui.observability import Metrics, TurnObserver
from ui.operations import install_operations
from ui.api_errors import check_model, install_error_handlers
from ui.api_photos import MAX_IMAGE_BODY_BYTES, image_of, is_image_part

MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGES = 100
MAX_SESSIONS = 2000
ROLES = {"system", "developer", "user", "assistant", "tool"}
_ID = re.compile(r"^[\w.@:-]{1,64}$")


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, param: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": self.message, "type": self.kind, "param": self.param,
                                       "code": self.code}}, status_code=self.status)


@dataclass
class ChatRequest:
    text: str
    earlier_user_texts: list[str]
    first_user_text: str
    stream: bool
    user: str | None
    include_usage: bool
    image: bytes | None = None  # the last user message's image (a data URL's bytes)


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object, refusing bodies over `limit` bytes before reading them all."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise ApiError(413, f"request body of {length} bytes is over the {limit}-byte limit", "body_too_large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"request body is over the {limit}-byte limit", "body_too_large")
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, f"invalid JSON body: {e}", "invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", "invalid_json")
    return data


def _content_text(content: Any, i: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: text, and images (read by parse_chat)
        texts = []
        for part in content:
            if is_image_part(part):
                continue
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, f"messages[{i}].content: only text and image_url parts are supported",
                               "unsupported_content", f"messages[{i}].content")
            texts.append(part["text"])
        return "\n".join(texts)
    raise ApiError(400, f"messages[{i}].content must be a string or a list of text parts", "invalid_content",
                   f"messages[{i}].content")


def parse_chat(data: dict[str, Any], header_user: str | None) -> ChatRequest:
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list", "missing_messages", "messages")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"at most {MAX_MESSAGES} messages per request", "too_many_messages", "messages")
    users = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise ApiError(400, f"messages[{i}] must be an object", "invalid_message", f"messages[{i}]")
        role = m.get("role")
        if role not in ROLES:
            raise ApiError(400, f"messages[{i}].role must be one of {', '.join(sorted(ROLES))}, got {role!r}",
                           "invalid_role", f"messages[{i}].role")
        text = _content_text(m.get("content"), i)
        if role == "user":
            users.append(text)
    if messages[-1].get("role") != "user":
        raise ApiError(400, "the last message must have role 'user': it is the shopper's turn", "last_message_not_user",
                       f"messages[{len(messages) - 1}].role")
    text = users[-1].strip()
    image = image_of(messages[-1].get("content"), f"messages[{len(messages) - 1}].content")
    if not text and image is None:
        raise ApiError(400, "the last user message is empty", "empty_message", f"messages[{len(messages) - 1}].content")
    if len(text) > MAX_INPUT_CHARS:
        raise ApiError(400, f"the last user message has {len(text)} characters; the limit is {MAX_INPUT_CHARS}",
                       "message_too_long", f"messages[{len(messages) - 1}].content")
    user = data.get("user", None) or header_user or None
    if user is not None and (not isinstance(user, str) or not _ID.match(user)):
        raise ApiError(400, "'user' must be 1-64 letters, digits or . @ : _ -", "invalid_user", "user")
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false", "invalid_stream", "stream")
    options = data.get("stream_options") or {}
    return ChatRequest(text, [u.strip() for u in users[:-1]], users[0].strip(), stream, user,
                       bool(isinstance(options, dict) and options.get("include_usage")), image)


class Sessions:
    """Sessions by (user, key), least recently used dropped first; one turn at a time per session."""

    def __init__(self, assistant: Assistant, capacity: int = MAX_SESSIONS):
        self.assistant, self.capacity = assistant, capacity
        self._items: OrderedDict[tuple[str, str], tuple[Session, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user: str | None, session_id: str | None, req: ChatRequest) -> tuple[Session, threading.Lock]:
        derived = session_id is None
        key = (user or "", session_id or "d-" + hashlib.sha1(f"{user}\x00{req.first_user_text}".encode()).hexdigest()[:16])
        with self._lock:
            entry = self._items.get(key)
            if entry is not None and derived and [t.user for t in entry[0].turns] != req.earlier_user_texts:
                entry = None  # the client's history is not ours: a new conversation that starts the same way
            if entry is None:  # with a SessionStore, a known id restores that user's saved session
                session = self.assistant.new_session(user, key[1])
                if derived and [t.user for t in session.turns] != req.earlier_user_texts:
                    session = self.assistant.new_session(user)  # its own id: never mixed into a saved one
                    session.session_id = f"{key[1]}-{uuid.uuid4().hex[:6]}"
                entry = (session, threading.Lock())
                self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return entry


def extras(result, session: Session) -> dict[str, Any]:
    return {"session_id": session.session_id, "user": session.user_id, "intent": result.intent, "lang": result.lang,
            "products": result.products,
            "tool_calls": [{"name": c["name"], "arguments": c.get("arguments", {}), "ms": c.get("ms"),
                            "error": c.get("error")} for c in result.tool_calls],
            "refused": result.refused, "no_match": result.no_match, "comparison": result.comparison,
            "review_summary": result.review_summary, "cart": result.cart,
            "timings": {k: round(v, 1) for k, v in result.timings.items()}}


def _usage(result, text: str) -> dict[str, int]:
    completion = len(re.findall(r"\w+|[^\w\s]", text))  # approximate: the engine reports prompt tokens only
    return {"prompt_tokens": result.prompt_tokens, "completion_tokens": completion,
            "total_tokens": result.prompt_tokens + completion}


def create_app(assistant: Assistant, agent_models: AgentModels | None = None, model_name: str = "shopassist",
               backend_note: str = "", auth: Authenticator | None = None, metrics: Metrics | None = None,
               photos: PhotoSearch | None = None) -> FastAPI:
    """The app; `auth` None trusts the user named by the request (what `shopassist api --trust-user-header`
    asks for); `shopassist api` otherwise passes an Authenticator (ui/auth.py)."""
    app = FastAPI(title="shopassist", description=__doc__.split("\n\n")[0])
    observer = install_operations(app, assistant, auth=auth, metrics=metrics)
    sessions = Sessions(assistant)
    photos = photos or PhotoSearch(assistant)  # its OCR models load with the first image
    store = assistant.index.store
    served = list(dict.fromkeys([model_name, "shopassist"]))  # its own name, and the name the docs use
    agents = agent_models or AgentModels(store, insights=assistant.insights)

    install_error_handlers(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return exc.response()

    @app.get("/healthz")
    def healthz():
        backend = getattr(assistant.backend, "name", None) or "none (templated replies)"
        return {"status": "ok", "products": len(store.products), "backend": backend, "model": model_name,
                "note": backend_note}

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "shopassist"}
                                           for m in served]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        data = await read_chat_json(request)
        if (unknown := check_model(data, served)) is not None:
            return unknown
        req = parse_chat(data, requested_user(request))
        req.user = caller(request).resolve_user(req.user)
        sid = request.headers.get("x-session-id")
        if sid is not None and not _ID.match(sid):
            raise ApiError(400, "X-Session-Id must be 1-64 letters, digits or . @ : _ -", "invalid_session_id")
        session, lock = sessions.get(req.user, sid, req)
        cid, created = "chatcmpl-" + uuid.uuid4().hex[:24], int(time.time())
        if req.stream:
            return StreamingResponse(_sse(_events(assistant, photos, req, observer, True), assistant, session, lock,
                                          req, cid, created, model_name),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        result = await run_in_threadpool(_turn, _events(assistant, photos, req, observer, False), assistant, session,
                                         lock)
        return {"id": cid, "object": "chat.completion", "created": created, "model": model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text},
                             "finish_reason": "stop"}],
                "usage": _usage(result, result.text), "shopassist": extras(result, session)}

    @app.post("/v1/suggest-replies")
    async def suggest(request: Request):
        data = await read_json(request)
        conversation = _conversation(data, store)
        phrase = data.get("phrase", False) is True and assistant.backend is not None
        return await run_in_threadpool(_suggest, store, conversation, agents,
                                       assistant.backend if phrase else None)

    return app


async def read_chat_json(request: Request) -> dict[str, Any]:
    """A chat body: up to MAX_IMAGE_BODY_BYTES when it carries an image, else the usual MAX_BODY_BYTES."""
    data = await read_json(request, MAX_IMAGE_BODY_BYTES)
    length = request.headers.get("content-length")
    big = length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES
    if big and not any(isinstance(m, dict) and isinstance(m.get("content"), list)
                       and any(is_image_part(p) for p in m["content"]) for m in data.get("messages") or []):
        raise ApiError(413, f"request body of {length} bytes is over the {MAX_BODY_BYTES}-byte limit "
                            "(larger bodies must carry an image)", "body_too_large")
    return data


def _events(assistant: Assistant, photos: PhotoSearch, req: ChatRequest, observer: TurnObserver, stream: bool):
    """The turn's traced event stream, for a session: the engine's, or the photo turn's when an image came."""
    def run(session: Session):
        photo = stream_with_image(photos, session, req.text, req.image) if req.image is not None else None
        return observer.stream(assistant, session, req.text, stream=stream, events=photo)
    return run


def _turn(events, assistant: Assistant, session: Session, lock: threading.Lock):
    with lock:
        if assistant.sessions is not None:  # another replica may have served this session's last turns
            assistant.sessions.refresh(session)
        return next(e.result for e in events(session) if isinstance(e, DoneEvent))


def _chunk(cid: str, created: int, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _sse(events, assistant: Assistant, session: Session, lock: threading.Lock, req: ChatRequest, cid: str,
         created: int, model: str) -> Iterator[str]:
    with lock:
        if assistant.sessions is not None:  # another replica may have served this session's last turns
            assistant.sessions.refresh(session)
        yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
        text = ""
        for event in events(session):
            if isinstance(event, ToolEvent):
                c = event.call
                tool = {"name": c["name"], "arguments": c.get("arguments", {}),
                        "status": "done" if event.done else "running"}
                if event.done:
                    tool.update(ms=c.get("ms"), error=c.get("error"))
                yield _chunk(cid, created, model, {}, shopassist={"tool": tool})
            elif isinstance(event, TextEvent):
                text += event.delta
                yield _chunk(cid, created, model, {"content": event.delta})
            elif isinstance(event, DoneEvent):
                if not text and event.result.text:  # some replies (bad input) arrive only with the result
                    text = event.result.text
                    yield _chunk(cid, created, model, {"content": text})
                usage = {"usage": _usage(event.result, text)} if req.include_usage else {}
                yield _chunk(cid, created, model, {}, "stop", shopassist=extras(event.result, session), **usage)
    yield "data: [DONE]\n\n"


def _conversation(data: dict[str, Any], store) -> dict[str, Any]:
    if "conversation_id" in data:
        cid = data["conversation_id"]
        conv = next((c for c in store.conversations if c.get("conversation_id") == cid), None)
        if conv is None:
            raise ApiError(404, f"no conversation {cid!r}", "conversation_not_found", "conversation_id")
        return conv
    conv = data.get("conversation")
    if not isinstance(conv, dict):
        raise ApiError(400, "give 'conversation_id' or a 'conversation' object", "missing_conversation", "conversation")
    messages = conv.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'conversation.messages' must be a non-empty list", "missing_messages",
                       "conversation.messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("customer", "agent") or not isinstance(m.get("text"), str):
            raise ApiError(400, f"conversation.messages[{i}] must be {{'role': 'customer'|'agent', 'text': str}}",
                           "invalid_message", f"conversation.messages[{i}]")
        if len(m["text"]) > MAX_INPUT_CHARS:
            raise ApiError(400, f"conversation.messages[{i}] is over {MAX_INPUT_CHARS} characters", "message_too_long",
                           f"conversation.messages[{i}].text")
    user = conv.get("user_id")
    if user is not None and (not isinstance(user, str) or not _ID.match(user)):
        raise ApiError(400, "'conversation.user_id' must be 1-64 letters, digits or . @ : _ -", "invalid_user",
                       "conversation.user_id")
    return {"conversation_id": str(conv.get("conversation_id") or "adhoc"), "user_id": user,
            "messages": messages, "order_id": None, "product_id": None, "created_at": conv.get("created_at")}


def _suggest(store, conversation: dict[str, Any], agents: AgentModels, backend) -> dict[str, Any]:
    analysis = analyse_conversation(store, conversation, agents)
    return {"conversation_id": conversation.get("conversation_id"), "analysis": analysis.to_dict(),
            "suggestions": [s.to_dict() for s in suggest_replies(store, conversation, analysis, backend=backend)]}
