"""Assembling an assistant from an index folder, a backend name and the turn options: the one place the CLI, UI,
API and eval code get a ready `Assistant` from. Knows nothing about how it is served."""
from __future__ import annotations

import logging
from pathlib import Path

from assistant.engine import ANSWER_STYLES, ROUTERS, Assistant, AssistantConfig, default_config
from assistant.insights_registry import Insights
from retrieval.search import ProductIndex

log = logging.getLogger(__name__)
DEFAULT_BACKEND = "llamacpp"
BACKENDS = ("llamacpp", "transformers", "openai", "scripted", "none")


def load_backend_or_none(backend: str | None, model: str | None = None, **kw):
    """The named backend; None for 'none' (templated replies only)."""
    if backend in (None, "none", "templated"):
        return None
    from assistant.llm import load_backend

    return load_backend(backend, model, **kw)


def load_classifier(index_dir: Path, store=None):
    """The learned turn classifier saved beside the index; trained from the store's generated utterances (a few
    seconds) and saved when there is none. None when it cannot be had: the rules and slots still read every turn."""
    from assistant.turn_classifier import TurnClassifier, train_for_store

    models = Path(index_dir)
    try:
        return TurnClassifier.load(models)
    except FileNotFoundError:
        if store is None:
            return None
        try:
            return train_for_store(store, models)
        except Exception as e:
            log.warning("turn classifier not trained: %s", e)
            return None
    except Exception as e:  # a damaged artefact costs the classifier, never the assistant
        log.warning("turn classifier not loaded: %s", e)
        return None


def build_assistant(index: ProductIndex, llm=None, backend_name: str | None = None, router: str | None = None,
                    answer_style: str | None = None, sessions=None, models_dir: Path | None = None,
                    config: AssistantConfig | None = None) -> Assistant:
    """An assistant over a loaded index and an LLM backend object (or None): the one assembly of the engine."""
    name = "the demo store" if index.store.name == "demo" else index.store.name
    config = config or default_config(backend_name if llm is not None else None, router=router,
                                      answer_style=answer_style, store_name=name)
    classifier = load_classifier(models_dir, index.store) if models_dir else None
    if classifier is None and models_dir is None:
        from assistant.turn_classifier import TurnClassifier
        from assistant.utterances import training_data

        texts, labels, sources = training_data(index.store)
        classifier = TurnClassifier.train(texts, labels, {"sources": sources})
    return Assistant(index, llm, Insights(models_dir), config, sessions=sessions, classifier=classifier)


def load_assistant(index_dir: str | Path, backend: str | None = DEFAULT_BACKEND, model: str | None = None,
                   config: AssistantConfig | None = None, backend_obj=None, router: str | None = None,
                   answer_style: str | None = None, sessions=None, **backend_kw) -> Assistant:
    """An assistant over the index. `router` / `answer_style` override the backend's documented defaults
    (engine.default_config); a given `config` is used as it is."""
    index_dir = Path(index_dir)
    index = ProductIndex.load(index_dir)
    llm = backend_obj if backend_obj is not None else load_backend_or_none(backend, model, **backend_kw)
    assistant = build_assistant(index, llm, backend, router, answer_style, sessions, index_dir / "models", config)
    assistant.service = open_service_agent(index_dir, llm, sessions)
    reader = assistant.understander.reader
    if reader is not None and assistant.config.router != "plan":
        try:  # the parse prompt's fixed part into the model's cache now, not during the first shopper's turn
            reader.warm()
        except Exception as e:
            log.warning("could not warm the parse prompt: %s", e)
    return assistant


def open_service_agent(index_dir: Path, backend, sessions=None):
    """The after-sales service agent when the index carries service records (`--format taubench_retail`), else None.
    Its writes go to the session store when there is one, else to `<index>/service/records.sqlite`. Records that
    cannot be opened cost the service (logged), never the shopping assistant."""
    if not (index_dir / "service" / "orders.json").exists():
        return None
    from assistant.service.desk import ServiceDesk

    try:
        return ServiceDesk.open(index_dir, backend, sessions).agent
    except Exception:
        log.exception("the after-sales service could not be opened from %s", index_dir / "service")
        return None


def load_for_serving(index_dir: str | Path, backend: str | None, model: str | None, base_url: str | None = None,
                     sessions: str | None = None, router: str | None = None,
                     answer_style: str | None = None) -> tuple[Assistant, str]:
    """(assistant, note): the assistant with the backend, or with templated replies and a note saying why when
    the backend cannot be loaded. A served app must start even without its LLM."""
    store = None
    if sessions:
        from assistant.persistence import SessionStore

        store = SessionStore(sessions)
    kw = {"base_url": base_url} if base_url else {}
    try:
        llm = load_backend_or_none(backend, model, **kw)
    except Exception as e:  # any failure to load: serve templated replies, say so loudly, never crash
        note = f"the {backend} backend could not be loaded ({type(e).__name__}: {e}); replies are templated"
        log.warning(note)
        return load_assistant(index_dir, "none", sessions=store), note
    return load_assistant(index_dir, backend, model, backend_obj=llm, router=router, answer_style=answer_style,
                          sessions=store), ""


def add_turn_arguments(p) -> None:
    """--router and --answer-style, validated, for every command that runs turns."""
    p.add_argument("--router", choices=ROUTERS, default=None,
                   help="how a turn is read: auto (the model only when the rules leave it open), llm (the model "
                        "every turn), plan (rules and the classifier only), agent (the model chooses tools). "
                        "Default: auto for llamacpp and scripted, agent for transformers and openai, plan for none")
    p.add_argument("--answer-style", choices=ANSWER_STYLES, default=None,
                   help="template (replies from tool results), lead (template + one model sentence), full (the "
                        "model phrases the answer). Default: template for llamacpp/scripted/none, full for "
                        "transformers and openai")
