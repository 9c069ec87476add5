"""GPU (or CPU) backend: any local Hugging Face causal LM, optionally 4-bit NF4 / 8-bit via bitsandbytes.

Knows transformers: loading a local model directory or a GGUF file (`gguf_file=`, dequantised by
transformers; needs the `gguf` package), device and dtype choice, bitsandbytes quantization on CUDA,
streaming through `TextIteratorStreamer`, and batched generation (`generate_batch`, used by the GPU
benchmark and batch evaluation). The prompt is rendered by the same chat-template code as the llama.cpp
backend, so both see identical prompts.

Does not know: grammars. With `json_schema` the model is *asked* for JSON matching the schema (instruction
in the prompt) and the first JSON value is taken from its reply; it is not constrained token by token, so
callers must still check `json.loads(generation.text)`. No prefix KV cache is kept between calls.
Knows nothing about products, sessions or which tools a turn may use.
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from assistant.errors import BackendError, BackendTimeout
from assistant.llm.base import Generation, MessageLike, StreamItem, as_messages, final_generation
from assistant.llm.chat import ChatTemplate, assemble_generation, with_json_instruction
from assistant.model_files import MODEL_NAMES, resolve_model
from assistant.toolcalls import find_json

INSTALL_HINT = ("the transformers backend needs the `transformers` extra (CPU torch first): "
                "pip install torch==2.13.0 && pip install -e '.[transformers]'")
GPU_HINT = "4-bit / 8-bit loading needs the `gpu` extra on a CUDA machine: pip install -e '.[gpu]'"
QUANTIZATIONS = (None, "nf4", "8bit")


class TransformersBackend:
    """A local HF model. `model`: a model directory, a .gguf file, or an alias of `model_files`.

    device: "auto" (CUDA when present, else CPU), "cuda", "cpu". quantization: None, "nf4", "8bit" (CUDA only).
    dtype: "auto" (bf16 on CUDA, fp32 on CPU), "bf16", "fp16", "fp32".
    """

    name = "transformers"

    def __init__(self, model: str, gguf_file: str | None = None, device: str = "auto",
                 quantization: str | None = None, dtype: str = "auto", chat_template: str | None = None,
                 n_threads: int | None = None):
        try:
            import torch
            import transformers
        except ImportError as e:
            raise ImportError(INSTALL_HINT) from e
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
        self._torch, self._transformers = torch, transformers
        if n_threads:
            torch.set_num_threads(n_threads)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        path, gguf_file = _model_location(model, gguf_file)
        self.model_id = model
        kwargs = self._load_kwargs(quantization, dtype)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path, gguf_file=gguf_file)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(path, gguf_file=gguf_file, **kwargs)
        except (OSError, ValueError) as e:
            raise BackendError(f"transformers could not load {path}"
                               f"{' / ' + gguf_file if gguf_file else ''}: {e}") from e
        if "device_map" not in kwargs:
            self.model.to(self.device)
        self.model.eval()
        self.quantization = quantization
        self._setup_chat(chat_template)

    @classmethod
    def from_objects(cls, model, tokenizer, model_id: str = "in-memory",
                     chat_template: str | None = None) -> TransformersBackend:
        """Wrap an already-built model and tokenizer (e.g. one initialised from a config)."""
        import torch
        import transformers

        self = cls.__new__(cls)
        self._torch, self._transformers = torch, transformers
        self.model, self.tokenizer, self.model_id, self.quantization = model.eval(), tokenizer, model_id, None
        self.device = str(next(model.parameters()).device.type)
        self._setup_chat(chat_template)
        return self

    def render(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None) -> str:
        """The exact prompt text `generate` would send to the model."""
        # with tools the model already knows the call format; repeating the schemas would cost many tokens
        schema_note = None if tools else json_schema
        return self.template.render(with_json_instruction(as_messages(messages), schema_note), tools)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
                 json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
                 seed: int = 0, timeout_s: float = 120.0) -> Generation:
        return final_generation(self.stream(messages, tools, json_schema, max_tokens, temperature, seed,
                                            timeout_s))

    def stream(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
               seed: int = 0, timeout_s: float = 120.0) -> Iterator[StreamItem]:
        inputs = self._encode([self.render(messages, tools, json_schema)])
        streamer = self._transformers.TextIteratorStreamer(self.tokenizer, skip_prompt=True,
                                                           skip_special_tokens=True, timeout=timeout_s)
        t0 = time.perf_counter()
        clock = _Clock(t0 + timeout_s)
        result: dict = {}
        with self._lock:
            worker = threading.Thread(target=self._run, daemon=True,
                                      args=(inputs, max_tokens, temperature, seed, clock, streamer, result))
            worker.start()
            parts = []
            try:
                for delta in streamer:
                    parts.append(delta)
                    yield delta
            except queue.Empty:
                raise BackendTimeout(f"transformers {self.model_id}: no token within {timeout_s:.1f}s") from None
            finally:
                worker.join()
        if "error" in result:
            raise BackendError(f"transformers generation failed: {result['error']!r}") from result["error"]
        if clock.timed_out:
            raise BackendTimeout(f"transformers {self.model_id}: no answer within {timeout_s:.1f}s")
        raw = "".join(parts)
        n_new = self._n_new_tokens(result["ids"][0], inputs["input_ids"].shape[1])
        yield self._generation(raw, tools, json_schema, inputs["input_ids"].shape[1], n_new, max_tokens, t0, clock)

    def generate_batch(self, conversations: Sequence[Sequence[MessageLike]], tools: list[dict] | None = None,
                       json_schema: dict | None = None, max_tokens: int = 512, temperature: float = 0.0,
                       seed: int = 0, timeout_s: float = 120.0) -> list[Generation]:
        """One batched `model.generate` over several conversations (left-padded). Timings are the batch's."""
        prompts = [self.render(c, tools, json_schema) for c in conversations]
        inputs = self._encode(prompts)
        t0 = time.perf_counter()
        clock = _Clock(t0 + timeout_s)
        result: dict = {}
        with self._lock:
            self._run(inputs, max_tokens, temperature, seed, clock, None, result)
        if "error" in result:
            raise BackendError(f"transformers generation failed: {result['error']!r}") from result["error"]
        if clock.timed_out:
            raise BackendTimeout(f"transformers {self.model_id}: batch not done within {timeout_s:.1f}s")
        width = inputs["input_ids"].shape[1]
        out = []
        for i, ids in enumerate(result["ids"]):
            raw = self.tokenizer.decode(ids[width:], skip_special_tokens=True)
            n_prompt = int(inputs["attention_mask"][i].sum())
            out.append(self._generation(raw, tools, json_schema, n_prompt, self._n_new_tokens(ids, width),
                                        max_tokens, t0, clock))
        return out

    def _run(self, inputs, max_tokens, temperature, seed, clock, streamer, result: dict) -> None:
        """Runs `model.generate` (in a worker thread when streaming); stores ids or the exception."""
        torch = self._torch
        try:
            if temperature > 0:
                self._transformers.set_seed(seed)
            sampling = {"do_sample": True, "temperature": temperature, "top_k": 40, "top_p": 0.95} \
                if temperature > 0 else {"do_sample": False, "temperature": None, "top_k": None, "top_p": None}
            with torch.inference_mode():
                result["ids"] = self.model.generate(
                    **inputs, max_new_tokens=max_tokens, streamer=streamer, eos_token_id=self._eos_ids,
                    pad_token_id=self._pad_id, stopping_criteria=clock.criteria(self._transformers),
                    **sampling).tolist()
        except Exception as e:  # re-raised as BackendError in the calling thread
            result["error"] = e
            if streamer is not None:
                streamer.end()

    def _generation(self, raw, tools, json_schema, n_prompt, n_new, max_tokens, t0, clock) -> Generation:
        g = assemble_generation(raw, tools, prompt_tokens=n_prompt, completion_tokens=n_new, t_start=t0,
                                t_first=clock.first_token, hit_limit=n_new >= max_tokens)
        if json_schema is not None and not g.tool_calls:
            g.text = _first_json(g.text)
        return g

    def _encode(self, prompts: list[str]):
        self.tokenizer.padding_side = "left"
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=len(prompts) > 1, add_special_tokens=False)
        return {k: v.to(self.model.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")}

    def _n_new_tokens(self, ids: list[int], prompt_width: int) -> int:
        new = ids[prompt_width:]
        while new and new[-1] in (*self._eos_ids, self._pad_id):
            new = new[:-1]  # the end token and batch padding are not content
        return len(new)

    def _load_kwargs(self, quantization: str | None, dtype: str) -> dict:
        torch = self._torch
        dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32,
                  "auto": torch.bfloat16 if self.device.startswith("cuda") else torch.float32}
        if dtype not in dtypes:
            raise ValueError(f"dtype must be one of {sorted(dtypes)}, got {dtype!r}")
        kwargs: dict = {"dtype": dtypes[dtype]}
        if self.device.startswith("cuda"):  # load straight onto the GPU, not through CPU memory
            kwargs["device_map"] = {"": 0 if self.device == "cuda" else self.device}
        if quantization is None:
            return kwargs
        if not self.device.startswith("cuda"):
            raise BackendError(f"quantization={quantization!r} needs a CUDA GPU; on CPU use quantization=None. "
                               + GPU_HINT)
        try:
            import bitsandbytes  # noqa: F401  (transformers needs it importable for BitsAndBytesConfig)
        except ImportError as e:
            raise ImportError(GPU_HINT) from e
        kwargs["quantization_config"] = self._transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16) \
            if quantization == "nf4" else self._transformers.BitsAndBytesConfig(load_in_8bit=True)
        return kwargs

    def _setup_chat(self, chat_template: str | None) -> None:
        tok = self.tokenizer
        source = chat_template or tok.chat_template
        if isinstance(source, dict):
            source = source.get("tool_use") or source.get("default")
        self.template = ChatTemplate(source, bos_token=tok.bos_token or "", eos_token=tok.eos_token or "")
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        ids |= {tok.eos_token_id} if tok.eos_token_id is not None else set()
        im_end = tok.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != tok.unk_token_id:
            ids.add(im_end)  # ChatML turns end here even when the config names another eos
        self._eos_ids = sorted(ids)
        self._pad_id = tok.pad_token_id if tok.pad_token_id is not None else self._eos_ids[0]
        if tok.pad_token_id is None:
            tok.pad_token_id = self._pad_id
        self._lock = threading.Lock()


class _Clock:
    """Records when the first new token exists and stops generation at the deadline."""

    def __init__(self, deadline: float):
        self.deadline, self.first_token, self.timed_out = deadline, None, False

    def criteria(self, transformers):
        clock = self

        class _Deadline(transformers.StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                now = time.perf_counter()
                clock.first_token = clock.first_token or now
                clock.timed_out = clock.timed_out or now > clock.deadline
                return input_ids.new_full((input_ids.shape[0],), clock.timed_out, dtype=bool)

        return transformers.StoppingCriteriaList([_Deadline()])


def _model_location(model: str, gguf_file: str | None) -> tuple[str, str | None]:
    """(directory, gguf file name or None) for a directory, a .gguf path or a model alias."""
    if model in MODEL_NAMES:
        model = str(resolve_model(model))
    path = Path(model).expanduser()
    if gguf_file is None and path.suffix == ".gguf":
        return str(path.parent), path.name
    if not path.exists():
        raise BackendError(f"no local model at {path}: give a model directory, a .gguf file or one of "
                           f"{', '.join(MODEL_NAMES)} (no model hub is used)")
    return str(path), gguf_file


def _first_json(text: str) -> str:
    """The first JSON value in `text`, re-serialised; `text` itself when there is none."""
    try:
        return json.dumps(find_json(text), ensure_ascii=False)
    except ValueError:
        return text
