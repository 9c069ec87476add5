"""Review sentiment: a multilingual classifier that each store trains from its own star ratings.

Weak labels: 1-2 stars negative, 4-5 positive, 3 neutral (kept for a 3-way model, dropped for a 2-way
one), so a store needs no annotation; any labelled review file trains it the same way.

The model pools two branches with non-negative weights fitted on their out-of-fold probabilities:
- character n-gram + word TF-IDF logistic regression: strong in-domain, any language, no tokenizer;
- logistic regression over multilingual-e5 embeddings: transfers across languages and domains.
Embeddings and lexicon scores are cached on disk (under `SHOPASSIST_HOME`) keyed by text hash.

Knows review texts and labels; knows nothing about products, aspects or tools (see aspects.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

MODEL_VERSION = 2  # 2: log-linear pool stacker
NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def home_dir() -> Path:
    """The one home-directory variable: caches and default artefacts live under it."""
    return Path(os.environ.get("SHOPASSIST_HOME", Path.home() / ".cache" / "shopassist"))


def is_chinese(text: str) -> bool:
    """True when CJK characters outnumber a third of the Latin letters (a mixed review counts as Chinese)."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(_LATIN.findall(text)) / 3


# ---- on-disk caches --------------------------------------------------------------------------------

class TextVectorCache:
    """Per-text vectors on disk, keyed by a hash of (name, kind, text), so a text is computed once.

    Entries live in append-only chunk files (`*.npz`: `keys` sha1 digests, `vecs` float16), written
    atomically every `flush_every` new texts, so an interrupted run keeps what it computed and
    parallel processes never clash.
    """

    def __init__(self, name: str, kind: str, compute: Callable[[list[str]], np.ndarray],
                 directory: Path | None = None, max_chars: int = 512, flush_every: int = 1024,
                 progress: bool = False):
        self.name, self.kind, self._compute_fn = name, kind, compute
        self.directory = Path(directory or home_dir() / "emb" / name)
        self.max_chars, self.flush_every, self.progress = max_chars, flush_every, progress
        self._index: dict[bytes, np.ndarray] | None = None

    def _key(self, text: str) -> bytes:
        return hashlib.sha1(f"{self.name}\x00{self.kind}\x00{text}".encode("utf-8")).digest()

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._index is None:
            self._index = {}
            for path in sorted(self.directory.glob("*.npz")):
                if path.name.endswith(".tmp.npz"):
                    continue
                with np.load(path) as z:
                    self._index.update(zip(z["keys"].tolist(), z["vecs"]))
        return self._index

    def _write(self, keys: list[bytes], vecs: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = self.directory / f"{name}.tmp.npz"
        np.savez(tmp, keys=np.array(keys, dtype="S20"), vecs=vecs.astype(np.float16))
        tmp.rename(self.directory / f"{name}.npz")

    def has(self, text: str) -> bool:
        return self._key((text or "").strip()[: self.max_chars]) in self._load()

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 vectors, computing and storing only the texts not seen before."""
        texts = [(t or "").strip()[: self.max_chars] for t in texts]
        index = self._load()
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts) if k not in index))
        self._fill(missing, index)
        return np.vstack([index[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, 0), np.float32)

    def _fill(self, missing: list[tuple[bytes, str]], index: dict[bytes, np.ndarray]) -> None:
        from tqdm import tqdm

        bar = tqdm(total=len(missing), desc=f"{self.name} ({self.kind})", disable=not (self.progress and missing))
        for start in range(0, len(missing), self.flush_every):
            chunk = missing[start:start + self.flush_every]
            vecs = np.asarray(self._compute_fn([t for _, t in chunk]), dtype=np.float32)
            vecs = vecs.reshape(len(chunk), -1).astype(np.float16)
            self._write([k for k, _ in chunk], vecs)
            index.update(zip((k for k, _ in chunk), vecs))
            bar.update(len(chunk))
        bar.close()


def embedding_cache(embedder=None, progress: bool = False) -> TextVectorCache:
    """e5 passage embeddings (or `embedder`'s), cached under SHOPASSIST_HOME/emb/<embedder name>."""
    holder = {"embedder": embedder}

    def compute(texts: list[str]) -> np.ndarray:
        if holder["embedder"] is None:
            from retrieval.embedders import E5Embedder
            holder["embedder"] = E5Embedder()
        return holder["embedder"].embed_passages([t if t else "-" for t in texts])

    return TextVectorCache(getattr(embedder, "name", "e5"), "passage", compute, progress=progress)


# ---- lexicon scores (fallback and baselines) ------------------------------------------------------

@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def vader_score(text: str) -> float:
    """VADER compound score in [-1, 1] (English)."""
    return float(_vader().polarity_scores(text)["compound"])


def snownlp_score(text: str) -> float:
    """SnowNLP positive probability mapped to [-1, 1] (Chinese)."""
    from snownlp import SnowNLP
    return 2.0 * float(SnowNLP(text).sentiments) - 1.0 if text.strip() else 0.0


def lexicon_score(text: str) -> float:
    """Lexicon sentiment in [-1, 1]: SnowNLP for Chinese text, VADER otherwise."""
    return snownlp_score(text) if is_chinese(text) else vader_score(text)


def lexicon_scores(texts: Sequence[str], cache: bool = True, progress: bool = False) -> np.ndarray:
    """Lexicon scores for many texts; SnowNLP is slow (~50 ms a review), so scores are cached on disk."""
    def compute(batch: list[str]) -> np.ndarray:
        return np.array([lexicon_score(t) for t in batch], dtype=np.float32)

    if not cache:
        return compute(list(texts))
    return TextVectorCache("lexicon", "score-v1", compute, progress=progress).get(texts)[:, 0]


# ---- weak labels ----------------------------------------------------------------------------------

def star_label(rating: float | None, neutral: bool = False) -> str | None:
    """1-2 stars negative, 4-5 positive, 3 neutral (or None when the model is 2-way); None when unrated."""
    if rating is None:
        return None
    if rating <= 2:
        return NEGATIVE
    if rating >= 4:
        return POSITIVE
    return NEUTRAL if neutral else None


def review_text(review) -> str:
    """The text a review is classified on: its title (when it adds something) and body."""
    title, text = (review.title or "").strip(), (review.text or "").strip()
    if not title or title in text:
        return text
    zh = is_chinese(title)
    if title[-1] in ".!?。！？":
        return f"{title}{'' if zh else ' '}{text}".strip()
    return f"{title}{'。' if zh else '. '}{text}".strip()


def weak_labels(reviews: Iterable, neutral: bool = False) -> tuple[list[str], list[str]]:
    """(texts, labels) from star ratings; reviews without text or a usable rating are skipped."""
    texts, labels = [], []
    for r in reviews:
        label, text = star_label(r.rating, neutral), review_text(r)
        if label is not None and text:
            texts.append(text)
            labels.append(label)
    return texts, labels


def data_hash(texts: Sequence[str], labels: Sequence) -> str:
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(f"{y}\x00{t}\x01".encode("utf-8"))
    return h.hexdigest()[:16]


# ---- the model ------------------------------------------------------------------------------------

@dataclass
class SentimentConfig:
    embeddings: bool = True        # the e5 branch; off = TF-IDF branch alone (no embedder needed)
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    c_text: float | None = None    # None: grows with the data, 1 (a few thousand store reviews, whose
    #                                 phrasing must not be memorised) up to 8 (40k+ labelled reviews)
    c_embed: float = 4.0
    l2_meta: float = 1e-3          # ridge on the pooling weights
    folds: int = 4
    max_embed_train: int = 12000   # the e5 branch and the stacker train on at most this many texts
    class_weight: str | None = "balanced"
    seed: int = 0


def _word_tokens(text: str) -> list[str]:
    # Latin words (English negation "not good" needs words); CJK is covered by the char n-grams.
    # A length bucket token keeps the vocabulary non-empty for all-Chinese data and adds a length signal.
    return [f"_len{min(len(text) // 25, 8)}", *re.findall(r"[a-z0-9']+", text.lower())]


@dataclass
class SentimentModel:
    """Stacked TF-IDF + e5 sentiment classifier. `classes` are the label strings, in column order."""

    config: SentimentConfig = field(default_factory=SentimentConfig)
    classes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self._vectorizer = self._text_lr = self._embed_lr = self._meta = None
        self._cache: TextVectorCache | None = None

    # -- training --
    def fit(self, texts: Sequence[str], labels: Sequence, groups: Sequence[str] | None = None, embedder=None,
            progress: bool = False) -> "SentimentModel":
        """Train both branches and the stacker. `groups` (e.g. product categories) makes the stacker's
        out-of-fold predictions come from held-out groups, so it learns how each branch does on data
        unlike its training data: the text branch memorises a store's phrasing, the e5 branch carries over."""
        texts = [str(t) for t in texts]
        y = np.array([str(v) for v in labels])
        self.classes = sorted(set(y.tolist()), key=_label_order)
        if len(self.classes) < 2:
            raise ValueError(f"sentiment training needs at least two classes, got {self.classes}")
        cfg = self.config
        X = self._fit_vectorizer(texts)
        if cfg.embeddings:
            self._cache = embedding_cache(embedder, progress=progress)
        sub = self._stack_rows(y, texts)
        g = None if groups is None else np.asarray([str(x) for x in groups])
        folds, grouped = self._folds(y[sub], None if g is None else g[sub])
        oof = [self._oof_text(X, y, sub, folds, g if grouped else None)]
        if cfg.embeddings:
            E = self._cache.get([texts[i] for i in sub])
            oof.append(self._oof(lambda: self._lr(cfg.c_embed), E, y[sub], folds))
            self._embed_lr = self._lr(cfg.c_embed).fit(E, y[sub])
        self._text_lr = self._lr(self._c_text(len(y))).fit(X, y)
        self._meta = LogLinearPool(cfg.l2_meta, cfg.class_weight).fit(oof, y[sub], self.classes)
        self.info = {"n_train": len(texts), "n_stack": int(len(sub)), "data_hash": data_hash(texts, y),
                     "label_counts": {c: int((y == c).sum()) for c in self.classes},
                     "stack_folds": "grouped" if grouped else "stratified"}
        return self

    def _folds(self, y: np.ndarray, groups: np.ndarray | None) -> tuple[list, bool]:
        """Stacking folds and whether they hold out whole groups (at least three: with two, each fold would
        learn from one half only, e.g. one language, and the stacker would learn from nonsense)."""
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        smallest = min(int((y == c).sum()) for c in self.classes)
        n_folds = max(2, min(self.config.folds, smallest))
        if groups is not None and len(set(groups)) >= 3:
            n_folds = min(n_folds, len(set(groups)))
            splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=self.config.seed)
            return list(splitter.split(y, y, groups)), True
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=self.config.seed).split(y, y)), False

    def _c_text(self, n: int) -> float:
        c = self.config.c_text
        return float(c) if c is not None else float(np.clip(n / 5000, 1.0, 8.0))

    def _lr(self, c: float):
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(C=c, max_iter=3000, class_weight=self.config.class_weight)

    def _fit_vectorizer(self, texts: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        cfg = self.config
        min_df = cfg.min_df if len(texts) >= 2000 else 1
        self._vectorizer = FeatureUnion([
            ("char", TfidfVectorizer(analyzer="char", ngram_range=tuple(cfg.char_ngrams), min_df=min_df,
                                     sublinear_tf=True, lowercase=True, dtype=np.float32)),
            ("word", TfidfVectorizer(tokenizer=_word_tokens, token_pattern=None, lowercase=False,
                                     ngram_range=tuple(cfg.word_ngrams), min_df=min_df, sublinear_tf=True,
                                     dtype=np.float32)),
        ])
        return self._vectorizer.fit_transform(texts)

    def _stack_rows(self, y: np.ndarray, texts: list[str]) -> np.ndarray:
        """Rows the e5 branch and the stacker train on: all, or a random max_embed_train of them.

        Rows whose embeddings are already cached come first (in random order), so retraining a grown
        store embeds only what it must; the sample stays random because the cache holds no preference.
        """
        n, limit = len(y), self.config.max_embed_train
        if n <= limit:
            return np.arange(n)
        rng = np.random.default_rng(self.config.seed)
        order = rng.permutation(n)
        if self._cache is not None:
            cached = np.array([self._cache.has(texts[i]) for i in order])
            order = np.concatenate([order[cached], order[~cached]])
        return np.sort(order[:limit])

    def _oof_text(self, X, y: np.ndarray, sub: np.ndarray, folds, groups: np.ndarray | None) -> np.ndarray:
        """Out-of-fold TF-IDF probabilities for the stacking rows; each fold model sees every other row
        (with groups: every row of the other groups)."""
        out = np.zeros((len(sub), len(self.classes)))
        for _, held in folds:
            mask = np.ones(len(y), dtype=bool)
            mask[sub[held]] = False
            if groups is not None:
                mask &= ~np.isin(groups, np.unique(groups[sub[held]]))
            model = self._lr(self._c_text(len(y))).fit(X[mask], y[mask])
            out[held] = _aligned(model, X[sub[held]], self.classes)
        return out

    def _oof(self, make, X: np.ndarray, y: np.ndarray, folds) -> np.ndarray:
        out = np.zeros((len(y), len(self.classes)))
        for train, held in folds:
            out[held] = _aligned(make().fit(X[train], y[train]), X[held], self.classes)
        return out

    # -- inference --
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, len(classes)) probabilities, columns in `classes` order."""
        if self._text_lr is None:
            raise RuntimeError("the sentiment model is not trained: call fit() or SentimentModel.load()")
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.classes)))
        parts = [_aligned(self._text_lr, self._vectorizer.transform(texts), self.classes)]
        if self._embed_lr is not None:
            self._cache = self._cache or embedding_cache()
            parts.append(_aligned(self._embed_lr, self._cache.get(texts), self.classes))
        return self._meta.predict_proba(parts)

    def predict(self, texts: Sequence[str]) -> list[str]:
        p = self.predict_proba(texts)
        return [self.classes[i] for i in p.argmax(axis=1)]

    def polarity(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) - P(negative), in [-1, 1]."""
        p = self.predict_proba(texts)
        col = {c: i for i, c in enumerate(self.classes)}
        pos = p[:, col[POSITIVE]] if POSITIVE in col else 0.0
        neg = p[:, col[NEGATIVE]] if NEGATIVE in col else 0.0
        return np.asarray(pos - neg, dtype=float)

    # -- persistence --
    def save(self, directory: str | Path) -> Path:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"vectorizer": self._vectorizer, "text_lr": self._text_lr, "embed_lr": self._embed_lr,
                     "meta": self._meta}, directory / "model.joblib", compress=3)
        meta = {"name": "sentiment", "version": MODEL_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "classes": self.classes, "config": asdict(self.config),
                "embedder": self._cache.name if self._cache else None, **self.info}
        (directory / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "SentimentModel":
        import joblib

        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta.get("version") != MODEL_VERSION:
            raise ValueError(f"{directory}: sentiment model version {meta.get('version')}, this code reads "
                             f"{MODEL_VERSION}; retrain with `shopassist train sentiment`")
        cfg = dict(meta["config"])
        cfg["char_ngrams"], cfg["word_ngrams"] = tuple(cfg["char_ngrams"]), tuple(cfg["word_ngrams"])
        model = cls(config=SentimentConfig(**cfg), classes=list(meta["classes"]),
                    info={k: meta[k] for k in ("n_train", "n_stack", "data_hash", "label_counts") if k in meta})
        parts = joblib.load(directory / "model.joblib")
        model._vectorizer, model._text_lr = parts["vectorizer"], parts["text_lr"]
        model._embed_lr, model._meta = parts["embed_lr"], parts["meta"]
        return model


def _label_order(label: str) -> tuple[int, str]:
    return ({NEGATIVE: 0, NEUTRAL: 1, POSITIVE: 2}.get(label, 3), label)


def _aligned(model, X, classes: list[str]) -> np.ndarray:
    """predict_proba with columns in `classes` order (a fold may miss a rare class: its column is 0)."""
    p = model.predict_proba(X)
    out = np.zeros((p.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, index[str(c)]] = p[:, j]
    return out


class LogLinearPool:
    """The stacker: p(class) proportional to prod_b p_b(class) ** w_b * exp(bias_class), with w_b >= 0.

    A log-linear pool of the branches' probabilities, fitted on out-of-fold predictions by weighted
    log-loss. Unlike a free logistic regression over the stacked log-probabilities it cannot turn a
    branch upside down when the out-of-fold predictions are poor (small or oddly grouped data)."""

    def __init__(self, l2: float = 1e-3, class_weight: str | None = "balanced"):
        self.l2, self.class_weight = l2, class_weight
        self.weights = self.bias = None

    def _logits(self, parts: list[np.ndarray], theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L = np.stack([np.log(np.clip(p, 1e-4, 1.0)) for p in parts])  # (branches, n, classes)
        return L, np.tensordot(theta[:len(parts)], L, axes=1) + theta[len(parts):]

    def fit(self, parts: list[np.ndarray], y: np.ndarray, classes: list[str]) -> "LogLinearPool":
        from scipy.optimize import minimize

        position = {c: i for i, c in enumerate(classes)}
        idx = np.array([position[v] for v in y])
        counts = np.bincount(idx, minlength=len(classes)).astype(float)
        sample_w = (len(y) / (len(classes) * counts))[idx] if self.class_weight == "balanced" else np.ones(len(y))
        sample_w /= sample_w.sum()
        onehot = np.eye(len(classes))[idx]
        B = len(parts)

        def loss(theta):
            L, z = self._logits(parts, theta)
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            d = (np.exp(logp) - onehot) * sample_w[:, None]  # d loss / d logits
            grad = np.concatenate([np.einsum("bnk,nk->b", L, d), d.sum(axis=0)])
            grad[:B] += 2 * self.l2 * theta[:B]
            return -(sample_w * (onehot * logp).sum(axis=1)).sum() + self.l2 * (theta[:B] ** 2).sum(), grad

        start = np.concatenate([np.ones(B) / B, np.zeros(len(classes))])
        bounds = [(0.0, None)] * B + [(None, None)] * len(classes)
        theta = minimize(loss, start, jac=True, bounds=bounds, method="L-BFGS-B").x
        self.weights, self.bias = theta[:B], theta[B:]
        return self

    def predict_proba(self, parts: list[np.ndarray]) -> np.ndarray:
        _, z = self._logits(parts, np.concatenate([self.weights, self.bias]))
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


def train_from_store(store, neutral: bool = False, config: SentimentConfig | None = None,
                     progress: bool = False) -> SentimentModel:
    """Train on a store's own reviews with star-rating weak labels (no annotation).

    The stacker's folds hold out whole product categories, so it weighs the branches by how they do
    on products unlike the ones they learnt from."""
    rated = [r for r in store.reviews if star_label(r.rating, neutral) is not None and review_text(r)]
    texts, labels = weak_labels(rated, neutral=neutral)
    if len(set(labels)) < 2:
        raise ValueError(f"store {store.name!r} has too few rated reviews to train sentiment "
                         f"({len(texts)} usable, classes {sorted(set(labels))})")
    groups = [_category(store, r.product_id) for r in rated]
    model = SentimentModel(config or SentimentConfig())
    return model.fit(texts, labels, groups=groups if len(set(groups)) > 1 else None, progress=progress)


def _category(store, product_id: str) -> str:
    product = store.products.get(product_id)
    return product.category[0] if product is not None and product.category else ""
