"""Turning the bytes a shopper uploaded into a bounded RGB picture, or a clear reason why not.

Checks, in this order and before any pixel is decoded: the byte size, that the bytes are an image in a
format we read (JPEG, PNG, WebP, GIF's first frame, BMP), and the dimensions from the header (a
decompression bomb is refused from its header, never decoded). Then it decodes (JPEG at a reduced
scale straight from the file, so a 48-megapixel photo never becomes a 48-megapixel array), applies
the EXIF orientation (phones store portrait photos sideways), flattens transparency onto white and
scales the picture down to `max_side`. A truncated or corrupt file is refused with a message.

Knows nothing about OCR, products or the assistant.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000        # 50 MP: more than any phone camera; larger headers are refused undecoded
MAX_SIDE = 1600                # the OCR detector works at <= 960 px; this keeps small print readable
MIN_SIDE = 16
FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}  # MPO: the JPEG variant some phone cameras write


class PhotoError(ValueError):
    """An uploaded file that cannot be used as a photo; `message(lang)` is what the shopper reads."""

    def __init__(self, code: str, en: str, zh: str):
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh

    def message(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Picture:
    """A decoded, upright RGB picture (`pixels`: H x W x 3 uint8) and what it was before scaling."""
    pixels: object
    format: str
    original_size: tuple[int, int]
    rotated_by_exif: bool

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.pixels.shape[:2]
        return w, h


def load_picture(data: bytes, max_side: int = MAX_SIDE, max_bytes: int = MAX_IMAGE_BYTES,
                 max_pixels: int = MAX_PIXELS) -> Picture:
    """The upright RGB picture in `data`, at most `max_side` pixels on its longer side; PhotoError otherwise."""
    from PIL import Image

    _check_bytes(data, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large_error(0, 0) from None
    except (OSError, ValueError, SyntaxError):
        raise PhotoError("not_an_image", "That file is not an image I can read (JPEG, PNG, WebP, GIF or BMP).",
                         "这个文件不是我能读取的图片（支持 JPEG、PNG、WebP、GIF、BMP）。") from None
    with image:
        return _decode(image, max_side, max_pixels)


def _check_bytes(data: bytes, max_bytes: int) -> None:
    if not data:
        raise PhotoError("empty_file", "The image file is empty.", "图片文件是空的。")
    if len(data) > max_bytes:
        mb = max_bytes / 1024 / 1024
        raise PhotoError("file_too_large", f"The image is {len(data) / 1024 / 1024:.1f} MB; the limit is {mb:.0f} MB.",
                         f"图片有 {len(data) / 1024 / 1024:.1f} MB，上限是 {mb:.0f} MB。")


def _too_large_error(w: int, h: int) -> PhotoError:
    size = f" ({w} x {h} pixels)" if w and h else ""
    return PhotoError("image_too_large", f"The image is too large{size}; please send a photo under 50 megapixels.",
                      f"图片尺寸太大{size}，请发送小于 5000 万像素的照片。")


def _decode(image, max_side: int, max_pixels: int) -> Picture:
    import numpy as np
    from PIL import Image, ImageOps

    fmt = (image.format or "").upper()
    if fmt not in FORMATS:
        raise PhotoError("unsupported_format", f"{fmt or 'This'} images are not supported; please send a JPEG or PNG.",
                         f"不支持 {fmt or '这种'} 格式，请发送 JPEG 或 PNG 图片。")
    w, h = image.size
    if w * h > max_pixels:
        raise _too_large_error(w, h)
    if min(w, h) < MIN_SIDE:
        raise PhotoError("image_too_small", f"The image is only {w} x {h} pixels; there is nothing to read on it.",
                         f"图片只有 {w} x {h} 像素，上面没有可读的内容。")
    if fmt in ("JPEG", "MPO"):  # decode at 1/2, 1/4 or 1/8 scale when the picture is far larger than needed
        image.draft("RGB", (max_side, max_side))
    try:
        image.load()
        orientation = image.getexif().get(0x0112, 1)
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # truncated or corrupt pixel data
        raise PhotoError("truncated_image", "The image file is damaged or incomplete; please send it again.",
                         "图片文件已损坏或不完整，请重新发送。") from None
    rgb = _flatten(upright)
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return Picture(np.asarray(rgb, dtype=np.uint8), fmt, (w, h), orientation not in (1, None))


def _flatten(image):
    """RGB, with any transparency composited onto white (a transparent PNG's text stays readable)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def to_png(pixels) -> bytes:
    """PNG bytes of an RGB array (for tests, evaluation images and the API's examples)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
