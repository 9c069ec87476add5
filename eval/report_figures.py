"""The report's figures as PNG bytes: a latency histogram with p50/p95 lines, a confusion-matrix heat map.

Knows matplotlib; knows nothing about results files or where figures end up.
"""
from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass
class Figure:
    title: str
    png: bytes


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def latency_figure(name: str, values: list[float]) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 2.6))
    arr = np.asarray(values, dtype=float)
    bins = min(40, max(8, len(values) // 3))
    if arr.min() > 0 and arr.max() > 10 * np.percentile(arr, 95):  # a few slow outliers (warm-up): log scale
        ax.set_xscale("log")
        bins = np.geomspace(arr.min(), arr.max(), bins + 1)
    ax.hist(arr, bins=bins, color="#4C78A8")
    for q, style in ((50, "--"), (95, ":")):
        v = float(np.percentile(values, q))
        ax.axvline(v, color="#E45756", linestyle=style, label=f"p{q} {v:,.0f} ms")
    ax.set_xlabel(f"{name} (ms)")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    return Figure(f"{name}: {len(values)} values", _png(fig))


def confusion_figure(title: str, rows: list[str], cols: list[str], matrix: list[list[float]]) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    size = max(3.0, 0.45 * max(len(rows), len(cols)) + 1.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if m.size <= 400:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{m[i, j]:g}", ha="center", va="center", fontsize=6,
                        color="white" if m[i, j] > m.max() / 2 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return Figure(title, _png(fig))
