"""Image content parts of the OpenAI chat format, for the HTTP API: data URLs in, bytes out.

`{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,..."}}` carries a photo or a
screenshot. Only data URLs are accepted: the server never fetches a remote URL on a shopper's behalf
(no requests to addresses a client chooses). One image per message; its decoded size is bounded
before it is decoded from base64. What the image shows is assistant.photo's business, not this module's.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from assistant.photo_image import MAX_IMAGE_BYTES

# a request with an image may be this large (base64 adds a third); requests without one keep the small limit
MAX_IMAGE_BODY_BYTES = MAX_IMAGE_BYTES * 4 // 3 + 64 * 1024
_DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]+)?(?:;[a-z0-9=.+-]+)*;base64,", re.I)


def is_image_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image_url"


def image_of(content: Any, where: str) -> bytes | None:
    """The bytes of the one image in a message's content parts, None when it has none; ApiError otherwise."""
    from ui.api import ApiError

    if not isinstance(content, list):
        return None
    parts = [p for p in content if is_image_part(p)]
    if len(parts) > 1:
        raise ApiError(400, f"{where}: one image per message", "too_many_images", where)
    if not parts:
        return None
    spec = parts[0].get("image_url")
    url = spec.get("url") if isinstance(spec, dict) else spec
    if not isinstance(url, str) or not url:
        raise ApiError(400, f"{where}: image_url.url must be a data URL string", "invalid_image_url", where)
    return decode_data_url(url, where)


def decode_data_url(url: str, where: str) -> bytes:
    from ui.api import ApiError

    if re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        raise ApiError(400, f"{where}: remote image URLs are not fetched; send the image itself as a data URL "
                            "(data:image/jpeg;base64,...)", "remote_image_url", where)
    head = _DATA_URL.match(url)
    if head is None:
        raise ApiError(400, f"{where}: image_url.url must be a base64 data URL (data:image/jpeg;base64,...)",
                       "invalid_image_url", where)
    payload = url[head.end():]
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        raise ApiError(413, f"{where}: the image is over the {MAX_IMAGE_BYTES // (1024 * 1024)} MB limit",
                       "image_too_large", where)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{where}: the data URL is not valid base64", "invalid_image_url", where) from None
