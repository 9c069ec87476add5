"""BM25 over product text (bm25s), with jieba segmentation for Chinese and typo-tolerant queries.

Tokenisation: lower-cased Latin words and numbers (light English stemming), and jieba words for
Chinese runs. Query words unknown to the vocabulary are mapped to close vocabulary words
("earbudz" -> "earbuds"), so misspellings still match. Knows nothing about embeddings or filters.
"""
from __future__ import annotations

import difflib
import logging
import re
from pathlib import Path
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[\u4e00-\u9fff]+")
_STOP = frozenset("a an and the of for to in on with by at from is are be it this that or as your you my i me "
                  "we our want need looking some something any please show find get buy 的 了 和 是 我 要 想 买".split())
_jieba = None


def _segment_chinese(run: str) -> list[str]:
    global _jieba  # cached module handle, not state: importing jieba costs ~1 s once
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return [w for w in _jieba.lcut_for_search(run) if w.strip()]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str, bigrams: bool = True) -> list[str]:
    """Index/query tokens; `bigrams=False` keeps only whole jieba words for Chinese (for matching names)."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if "\u4e00" <= tok[0] <= "\u9fff":
            # jieba words plus character bigrams: shop titles run words together ("餐桌布艺" holds "桌布")
            out.extend(w for w in _segment_chinese(tok) if w not in _STOP)
            if bigrams:
                out.extend(tok[i:i + 2] for i in range(len(tok) - 1))
        elif tok not in _STOP:
            out.append(_stem(tok))
            parts = re.findall(r"\d+(?:\.\d+)?|[a-z]+", tok)
            if len(parts) > 1:  # "20000mah" also as "20000" + "mah", so "20000 mAh" and "20000毫安" match
                out.extend(p for p in parts if p not in _STOP)
    return out


class LexicalIndex:
    """BM25 scores for every document; documents are addressed by their position."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self._bm25 = None
        self._vocab: set[str] = set()
        self._by_initial: dict[str, list[str]] = {}
        self.n_docs = 0

    def build(self, texts: Sequence[str]) -> "LexicalIndex":
        import bm25s

        corpus = [tokenize(t) or ["∅"] for t in texts]
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        self._bm25.index(corpus, show_progress=False)
        self._set_vocab({w for doc in corpus for w in doc})
        self.n_docs = len(texts)
        return self

    def _set_vocab(self, vocab: set[str]) -> None:
        self._vocab = vocab
        self._by_initial = {}
        for w in vocab:
            if len(w) >= 3 and w.isascii():
                self._by_initial.setdefault(w[0], []).append(w)

    def correct(self, token: str) -> str:
        """A vocabulary word close to an unknown ASCII query word, else the word itself."""
        if token in self._vocab or not token.isascii() or len(token) < 4 or token.isdigit():
            return token
        candidates = self._by_initial.get(token[0], [])
        match = difflib.get_close_matches(token, candidates, n=1, cutoff=0.8)
        return match[0] if match else token

    def knows(self, token: str, exact: bool = False) -> bool:
        """Whether a query token is a word of the indexed products (after typo correction unless `exact`)."""
        return (token if exact else self.correct(token)) in self._vocab

    def query_tokens(self, query: str) -> list[str]:
        return [self.correct(t) for t in tokenize(query)]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document (zeros when no query word is known)."""
        if self._bm25 is None:
            raise RuntimeError("LexicalIndex.build() or load() first")
        tokens = [t for t in self.query_tokens(query) if t in self._vocab]
        if not tokens:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        import bm25s

        idx = cls()
        idx._bm25 = bm25s.BM25.load(str(directory))
        vocab = idx._bm25.vocab_dict
        idx._set_vocab(set(vocab.keys()) if vocab else set())
        idx.n_docs = int(idx._bm25.scores["num_docs"])
        return idx
