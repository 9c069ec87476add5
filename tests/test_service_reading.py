"""What code reads exactly from a customer's words: ids, identity, products, options, variants, requests."""
from __future__ import annotations

from assistant.service import extract, vocab
from assistant.service.parse import SentenceParse, combine, keyword_label
from assistant.service.requests import read_message
from assistant.service.state import ServiceState
from assistant.service.variants import Wanted, choose_variant, literal_change, wanted_changes
from tests.service_fixtures import KETTLE, SHIRT

BOOKSHELF = {"name": "Bookshelf", "product_id": "300", "variants": {
    vid: {"item_id": vid, "options": {"material": m, "color": c, "height": h}, "available": a, "price": p}
    for vid, m, c, h, a, p in [("31", "metal", "brown", "4 ft", True, 460.0),
                               ("32", "glass", "brown", "5 ft", True, 537.0),
                               ("33", "glass", "white", "5 ft", True, 504.0),
                               ("34", "glass", "black", "5 ft", True, 463.0),
                               ("35", "glass", "brown", "6 ft", False, 520.0)]}}


def test_ids_and_identity():
    text = ("I'm Olivia Ito, zip 80218; e-mail Olivia.Ito@Example.com. "
            "Orders #W5442520 and W7941031, the one ending in 66.")
    assert extract.order_ids(text) == ["#W5442520", "#W7941031"]
    assert extract.emails(text) == ["olivia.ito@example.com"]
    assert extract.zips(text) == ["80218"]  # not a piece of an order id
    assert extract.names(text)[0] == ("Olivia", "Ito")
    assert extract.order_suffixes(text) == ["66"]


def test_payment_and_literals():
    text = "Refund to paypal_123 or my store credit; I prefer PayPal over the gift card. Card ending in 4321."
    assert extract.payment_ids(text) == ["paypal_123"]
    assert extract.payment_kinds(text)[0] == "gift_card" and "paypal" in extract.payment_kinds(text)
    assert extract.card_last_four(text) == ["4321"]
    lits = extract.dict_literals("exchange Lamp {'color': 'red'} to {'color': 'blue'}")
    assert [d for _, _, d in lits] == [{"color": "red"}, {"color": "blue"}]
    assert extract.cancel_reason("I placed it by accident") == "ordered by mistake"
    assert extract.cancel_reason("I just don't need it") == ""


def test_addresses():
    (a,) = extract.addresses("Please ship it to 320 Cedar Avenue, Suite 116, San Antonio, TX 78219, USA.")
    assert a == {"address1": "320 Cedar Avenue", "address2": "Suite 116", "city": "San Antonio", "state": "TX",
                 "country": "USA", "zip": "78219"}
    (b,) = extract.addresses("{'address1': '1 Elm St', 'address2': '', 'city': 'Austin', 'country': 'USA', "
                             "'state': 'TX', 'zip': '73301'}")
    assert b["city"] == "Austin" and b["zip"] == "73301"


def test_products_and_options_by_the_catalogs_own_words():
    hits = vocab.find_products("my electric kettle and the t-shirts", ["Electric Kettle", "T-Shirt", "Bookshelf"])
    assert [h.key for h in hits] == ["Electric Kettle", "T-Shirt"]
    opts = vocab.find_options("a taller 5-feet glass bookshelf, not the 4 feet metal one", BOOKSHELF)
    assert [(h.key, h.value) for h in opts] == [("height", "5 ft"), ("material", "glass"), ("height", "4 ft"),
                                                ("material", "metal")]
    assert [(h.key, h.value) for h in vocab.find_options("the 2 liters one in black", KETTLE)] == \
        [("capacity", "2L"), ("color", "black")]
    assert vocab.find_options("I'm M. Smith", SHIRT) == []  # a bare letter is a size only next to "size"
    assert [(h.key, h.value) for h in vocab.find_options("in size M", SHIRT)] == [("size", "M")]


def test_variant_choice_keeps_the_rest_and_follows_a_change_of_mind():
    item = {"name": "Bookshelf", "options": {"material": "metal", "color": "brown", "height": "4 ft"}, "price": 460.0}
    texts = ["I want a 5 feet glass bookshelf instead of my 4 feet metal one."]
    wanted, cheapest = wanted_changes(texts, BOOKSHELF, item, [])
    wanted = [w for w in wanted if item["options"][w.key] != w.value]
    assert choose_variant(BOOKSHELF, item, wanted)["item_id"] == "32"  # keeps brown
    assert choose_variant(BOOKSHELF, item, wanted, cheapest=True)["item_id"] == "34"
    changed = [Wanted("color", "white", 1), Wanted("height", "6 ft", 2), Wanted("height", "5 ft", 3),
               Wanted("material", "glass", 4)]
    assert choose_variant(BOOKSHELF, item, changed)["item_id"] == "33"
    # 6 ft glass brown is unavailable: nothing said after the last change of mind is given up
    assert choose_variant(BOOKSHELF, item, [Wanted("height", "6 ft", 1), Wanted("material", "glass", 2)]) is None


def test_values_are_attributed_to_the_product_they_were_said_about():
    shirt = {"name": "T-Shirt", "options": {"color": "blue", "size": "M"}, "price": 20.0}
    texts = ["Swap the t-shirt for a red one in size L and the electric kettle for a black 2L one."]
    wanted, _ = wanted_changes(texts, SHIRT, shirt, ["Electric Kettle"])
    assert [(w.key, w.value) for w in wanted] == [("color", "red"), ("size", "L")]
    literal = literal_change(["exchange T-Shirt {'color': 'blue', 'size': 'M'} to {'color': 'black'}"], shirt)
    assert literal == ({"color": "blue", "size": "M"}, {"color": "black"})


def test_sentences_become_requests():
    state = ServiceState()
    parses = [SentenceParse("I got a t-shirt and a kettle in order #W0000002.", "none", "llm"),
              SentenceParse("I want to return the t-shirt.", "return", "llm"),
              SentenceParse("And the kettle as well, refund to my gift card.", "return", "llm"),
              SentenceParse("Also cancel #W0000001, I ordered it by mistake.", "cancel", "llm")]
    read_message(state, parses, ["T-Shirt", "Electric Kettle"])
    ret, cancel = state.requests
    assert (ret.action, ret.order_id, ret.products) == ("return", "#W0000002", ["T-Shirt", "Electric Kettle"])
    assert (cancel.action, cancel.order_id) == ("cancel", "#W0000001")
    read_message(state, [SentenceParse("Actually I'll keep the kettle and the t-shirt.", "keep", "llm")],
                 ["T-Shirt", "Electric Kettle"])
    assert ret.status == "dropped" and cancel.status == "open"


def test_model_labels_are_checked_by_the_sentences_own_words():
    assert combine("none", "cancel", "Cancel order #W1.")[0] == "cancel"
    assert combine("return", "none", "I ordered a lamp in order #W1.")[0] == "none"  # describes, asks nothing
    assert combine("return", "none", "I won't be able to use it, so I want my money back.")[0] == "return"
    assert combine("address", "profile_address", "Update my default address.")[0] == "profile_address"
    assert combine("keep", "none", "Please go ahead with what I asked.")[0] == "none"  # dropping needs own words
    assert combine("exchange", "return", "I want a full refund unless you match the price.")[0] == "return"
    assert keyword_label("I don't want to keep the puzzle and want a refund") == "return"


def test_payment_words_complete_the_open_request():
    state = ServiceState()
    parses = [SentenceParse("Return all the items of order #W0000002.", "return", "llm"),
              SentenceParse("I'm unsure which payment method to use for the refund.", "payment", "keywords"),
              SentenceParse("In the end I want the refund on a gift card.", "return", "llm")]
    read_message(state, parses, ["T-Shirt"])
    (ret,) = state.requests
    assert ret.action == "return" and len(ret.texts) == 3 and ret.all_items


def test_comparatives_step_from_the_current_option():
    item = {"name": "T-Shirt", "options": {"color": "blue", "size": "M"}, "price": 20.0}
    hits = vocab.find_comparatives("I need a bigger size please", SHIRT, item["options"])
    assert [(h.key, h.value) for h in hits] == [("size", "L")]
    assert vocab.find_comparatives("one more thing: the color", SHIRT, item["options"]) == []
    shelf = {"name": "Bookshelf", "options": {"material": "glass", "color": "brown", "height": "5 ft"}, "price": 1.0}
    assert [(h.key, h.value) for h in vocab.find_comparatives("a shorter one", BOOKSHELF, shelf["options"])] == \
        [("height", "4 ft")]
    kettle = {"name": "Electric Kettle", "options": {"capacity": "1L", "color": "white"}, "price": 30.0}
    wanted, _ = wanted_changes(["I'd like a larger kettle"], KETTLE, kettle, [])
    assert [(w.key, w.value) for w in wanted] == [("capacity", "2L")]
    assert vocab.order_key("1TB SSD") > vocab.order_key("512GB SSD") and vocab.order_key("XL") > vocab.order_key("M")


def test_an_address_written_out_is_an_address_change_and_its_zip_not_the_customers():
    text = "My zip code is 85093. Please send order #W4386313 to 964 Sunset Drive, Suite 782, New York, NY 10199, USA."
    assert extract.zips(text) == ["85093"]
    assert keyword_label("Please send order #W4386313 to 964 Sunset Drive, Suite 782, New York, NY 10199.") == "address"
    assert extract.payment_kinds("paid with the gift card too") == ["gift_card"]
    assert extract.payment_kinds("back to the card I paid with") == ["original"]
