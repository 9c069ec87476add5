"""The default CPU backend: a GGUF model run in-process by llama-cpp-python.

Knows: llama.cpp's tokenizer, sampler, grammars and KV cache. The prompt is rendered with the model's own
chat template (read from the GGUF; Qwen2.5's includes tools) and decoded token by token here, so that
timings and token counts are exact. JSON-schema output is constrained by a llama.cpp grammar: the reply is
valid JSON by construction (it may still be cut off by `max_tokens`).

Prefix cache: llama.cpp keeps the KV cache of the previous call and re-evaluates only the tokens after the
longest common token prefix. With a fixed system message and tool list, a new turn pays only for its own
new tokens; `Generation.cached_prompt_tokens` reports the reuse. `prefill()` evaluates a fixed prefix once and
keeps a snapshot of its KV state, restored whenever a later prompt starts with it after other prompts ran.
One model context serves one call at a time (a lock serialises callers).

Knows nothing about products, sessions or which tools a turn may use.
"""
from __future__ import annotations

import codecs
import json
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from assistant.errors import BackendError, BackendTimeout
from assistant.llm.base import Generation, MessageLike, StreamItem, as_messages, final_generation
from assistant.llm.chat import ChatTemplate, assemble_generation, with_json_instruction
from assistant.model_files import DEFAULT_MODEL, resolve_model
from retrieval.threads import LLM_THREADS_ENV, ThreadPolicy, openmp_defaults

INSTALL_HINT = ("the llamacpp backend needs llama-cpp-python (a core dependency; it compiles llama.cpp, "
                "7-9 min on 2 cores): pip install llama-cpp-python==0.3.36")


class LlamaCppBackend:
    """llama.cpp over a GGUF file. `model`: "qwen0.5b" (default), "qwen1.5b", "smollm2" or a .gguf path.

    `n_threads` fixes the thread count; by default `$SHOPASSIST_THREADS` (a number, or "auto") and, for
    "auto", the cores free at each call (`retrieval.threads.ThreadPolicy`): on a CPU shared with other busy
    processes fewer threads than cores is much faster, as llama.cpp's threads wait for each other at every
    layer, while on an idle machine every core helps. `n_threads` is the count the last call used.
    With `temperature > 0` the same seed repeats a reply for the same cache state; a reused prefix changes
    floating-point rounding, so a cached and an uncached call may sample differently.
    """

    name = "llamacpp"

    def __init__(self, model: str | None = None, n_threads: int | None = None, n_ctx: int = 4096,
                 n_batch: int = 512, chat_template: str | None = None, verbose: bool = False,
                 thread_policy: ThreadPolicy | None = None, **llama_kwargs):
        openmp_defaults()  # before llama_cpp loads libgomp
        try:
            import llama_cpp
        except ImportError as e:
            raise ImportError(INSTALL_HINT) from e
        self.thread_policy = None if n_threads else (thread_policy or ThreadPolicy(LLM_THREADS_ENV))
        n_threads = n_threads or self.thread_policy.choose()
        self.n_threads = n_threads
        self.model_path: Path = resolve_model(model)
        self.model_id = model or DEFAULT_MODEL
        try:
            self.llama = llama_cpp.Llama(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads,
                                         n_threads_batch=n_threads, n_batch=n_batch, verbose=verbose,
                                         **llama_kwargs)
        except ValueError as e:  # llama_cpp reports unreadable model files as ValueError
            raise BackendError(f"llama.cpp could not load {self.model_path}: {e}") from e
        self.n_ctx = n_ctx
        self._eog = llama_cpp.llama_vocab_is_eog
        self._vocab = self.llama._model.vocab
        self._bos = self._special_text(self.llama.token_bos())
        self.template = ChatTemplate(chat_template or self.llama.metadata.get("tokenizer.chat_template"),
                                     bos_token=self._bos, eos_token=self._special_text(self.llama.token_eos()))
        self._grammar_type = llama_cpp.LlamaGrammar
        self._grammars: dict[str, object] = {}
        self._snapshots: dict[tuple[int, ...], object] = {}  # KV states of prefilled prompt prefixes
        self._lock = threading.Lock()
        self._set_n_threads = llama_cpp.llama_set_n_threads

    def render(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None) -> str:
        """The exact prompt text `generate` would send to the model."""
        # with tools the model already knows the call format; repeating the schemas would cost many tokens
        schema_note = None if tools else json_schema
        return self.template.render(with_json_instruction(as_messages(messages), schema_note), tools)

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=True))

    def generate(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
                 json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
                 seed: int = 0, timeout_s: float = 120.0) -> Generation:
        return final_generation(self.stream(messages, tools, json_schema, max_tokens, temperature, seed,
                                            timeout_s))

    def stream(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
               seed: int = 0, timeout_s: float = 120.0) -> Iterator[StreamItem]:
        tokens = self._prompt_tokens(self.render(messages, tools, json_schema))
        max_tokens = min(max_tokens, self.n_ctx - len(tokens))
        grammar = self._grammar(json_schema)
        with self._lock:
            self._fit_threads()
            yield from self._decode(tokens, tools, grammar, max_tokens, temperature, seed, timeout_s)

    def _fit_threads(self) -> None:
        """Re-choose the thread count from the cores free now (only with a thread policy)."""
        if self.thread_policy is None:
            return
        n = self.thread_policy.choose()
        if n != self.n_threads:
            self._set_n_threads(self.llama.ctx, n, n)
            self.n_threads = n

    def prefill(self, messages: Sequence[MessageLike], tools: list[dict] | None = None) -> int:
        """Evaluate the prompt of `messages` (typically just the system message) into the KV cache, so the
        first real turn only pays for its own tokens. Returns the number of prompt tokens."""
        tokens = self._prompt_tokens(self.template.render(as_messages(messages), tools,
                                                          add_generation_prompt=False))
        with self._lock:
            self._fit_threads()
            for _ in self.llama.generate(tokens, temp=0.0):
                break
            # kept: a later call that starts with these tokens gets them back even after other prompts ran
            self._snapshots[tuple(tokens)] = self.llama.save_state()
        return len(tokens)

    def _restore_prefix(self, tokens: list[int]) -> None:
        """Bring back a prefilled prefix of `tokens` when the KV cache now holds less of it (another prompt
        ran in between: the parse prompt and an answer prompt alternate)."""
        best = max((k for k in self._snapshots if len(k) <= len(tokens) and tuple(tokens[:len(k)]) == k),
                   key=len, default=None)
        if best is not None and self._cached_prefix(tokens) < len(best) - 1:
            self.llama.load_state(self._snapshots[best])

    def _decode(self, tokens: list[int], tools, grammar, max_tokens: int, temperature: float, seed: int,
                timeout_s: float) -> Iterator[StreamItem]:
        self._restore_prefix(tokens)
        cached = self._cached_prefix(tokens)
        self.llama.set_seed(seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        raw, n, t_first, hit_limit = [], 0, None, False
        t0 = time.perf_counter()
        try:
            for tok in self.llama.generate(tokens, temp=temperature, top_k=40, top_p=0.95, min_p=0.05,
                                           repeat_penalty=1.0, grammar=grammar):
                now = time.perf_counter()
                t_first = t_first or now
                if self._eog(self._vocab, tok):
                    break
                n += 1
                delta = decoder.decode(self.llama.detokenize([tok], special=True))
                if delta:
                    raw.append(delta)
                    yield delta
                if now - t0 > timeout_s:
                    raise BackendTimeout(f"llamacpp {self.model_id}: no answer within {timeout_s:.1f}s "
                                         f"({n} tokens generated)")
                if n >= max_tokens:
                    hit_limit = True
                    break
        except RuntimeError as e:  # llama_decode failures
            raise BackendError(f"llama.cpp failed while generating with {self.model_id}: {e}") from e
        tail = decoder.decode(b"", final=True)
        if tail:
            raw.append(tail)
            yield tail
        yield assemble_generation("".join(raw), tools, prompt_tokens=len(tokens), completion_tokens=n,
                                  t_start=t0, t_first=t_first, hit_limit=hit_limit, cached_prompt_tokens=cached)

    def _prompt_tokens(self, prompt: str) -> list[int]:
        add_bos = bool(self._bos) and self.llama._model.add_bos_token() and not prompt.startswith(self._bos)
        tokens = self.llama.tokenize(prompt.encode(), add_bos=add_bos, special=True)
        if len(tokens) >= self.n_ctx:
            raise BackendError(f"the prompt has {len(tokens)} tokens, more than the context window "
                               f"(n_ctx={self.n_ctx}) of {self.model_id}: shorten the conversation or raise n_ctx")
        return tokens

    def _cached_prefix(self, tokens: list[int]) -> int:
        """How many prompt tokens llama.cpp will reuse from its KV cache (it always re-evaluates one)."""
        previous = self.llama.input_ids[: self.llama.n_tokens]
        common = 0
        for a, b in zip(previous, tokens):
            if a != b:
                break
            common += 1
        return min(common, len(tokens) - 1)

    def _grammar(self, json_schema: dict | None):
        if json_schema is None:
            return None
        key = json.dumps(json_schema, sort_keys=True)
        if key not in self._grammars:
            try:
                self._grammars[key] = self._grammar_type.from_json_schema(key, verbose=False)
            except Exception as e:  # the converter raises bare Exceptions for unsupported schema features
                raise BackendError(f"llama.cpp cannot turn this JSON schema into a grammar: {e}") from e
        return self._grammars[key]

    def _special_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llama.detokenize([token], special=True).decode("utf-8", errors="replace")
