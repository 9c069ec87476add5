"""Intent models: per-turn dialogue intent, customer-service intent, dialogue goal, purchase propensity.

- `TextClassifier`: word + character TF-IDF into a linear SVM with sigmoid-calibrated probabilities
  (a confidence the agent console can threshold). Optional context text (the previous turn) gets its
  own features. Serves customer-service intents (Bitext's 27, or the built-in bilingual seeds) and
  dialogue goals (MG-ShopDial).
- `DialogueIntentClassifier`: browse | compare | purchase | support | chitchat for the dialogue engine,
  English and Chinese: a TextClassifier trained on built-in seed utterances, with high-precision keyword
  rules and the session context acting as priors on its probabilities.
- `PurchasePropensityModel`: gradient-boosted trees over the UCI Online Shoppers session features plus
  conversation features, isotonic-calibrated, with per-feature TreeSHAP contributions as its factors.
  `SessionSignals` maps a live assistant session into that feature space (table in its docstring).

Knows texts, labels and session signals; knows nothing about prompts, tools or the UI.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from assistant.insights.sentiment import data_hash, is_chinese

MODEL_VERSION = 1
DIALOGUE_INTENTS = ("browse", "compare", "purchase", "support", "chitchat")


def _write_meta(directory: Path, name: str, **extra: Any) -> None:
    meta = {"name": name, "version": MODEL_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra}
    (directory / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str),
                                         encoding="utf-8")


def _read_meta(directory: Path, name: str) -> dict:
    meta = json.loads((Path(directory) / "meta.json").read_text(encoding="utf-8"))
    if meta.get("name") != name or meta.get("version") != MODEL_VERSION:
        raise ValueError(f"{directory}: expected a {name} model version {MODEL_VERSION}, found "
                         f"{meta.get('name')} version {meta.get('version')}; retrain with `shopassist train intent`")
    return meta


# ---- text classifier ------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    """Latin words plus CJK character bigrams (Chinese has no spaces; bigrams approximate words)."""
    text = text.lower()
    tokens = re.findall(r"[a-z0-9']+|\{\{[^}]+\}\}", text)
    for run in re.findall(r"[\u3400-\u9fff]+", text):
        tokens += [run[i:i + 2] for i in range(max(1, len(run) - 1))]
    return tokens


@dataclass
class TextClassifier:
    """TF-IDF (words 1-2 + characters 2-5) -> LinearSVC, probabilities by sigmoid calibration."""

    c: float = 0.5
    context_weight: float = 0.5
    calibration_folds: int = 3
    kind: str = "svm"  # "svm": calibrated LinearSVC (best accuracy); "lr": logistic regression (fastest)
    features: str = "tfidf"  # "tfidf"; "e5": multilingual embeddings (few examples, cross-lingual);
    #                          "both": probabilities mixed, `mix` of the TF-IDF model and the rest e5
    mix: float = 0.3
    c_e5: float = 1.0  # the e5 model's C in "both"
    classes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self._vec = self._ctx_vec = self._clf = None
        self._parts: list[TextClassifier] = []

    def _features(self, texts: Sequence[str], contexts: Sequence[str] | None, fit: bool = False):
        if self.features == "e5":
            from assistant.insights.sentiment import embedding_cache

            cache = embedding_cache()
            X = cache.get(texts)
            return X if contexts is None else np.hstack([X, self.context_weight * cache.get(contexts)])
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        if fit:
            self._vec = FeatureUnion([
                ("word", TfidfVectorizer(tokenizer=_words, token_pattern=None, lowercase=False,
                                         ngram_range=(1, 2), sublinear_tf=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                                         if len(texts) > 1000 else 1)),
            ])
            X = self._vec.fit_transform(texts)
            if contexts is not None:
                self._ctx_vec = TfidfVectorizer(tokenizer=_words, token_pattern=None, lowercase=False,
                                                sublinear_tf=True)
                X = sparse.hstack([X, self.context_weight * self._ctx_vec.fit_transform(contexts)]).tocsr()
            return X
        X = self._vec.transform(texts)
        if self._ctx_vec is not None:
            ctx = self._ctx_vec.transform(contexts if contexts is not None else [""] * len(texts))
            X = sparse.hstack([X, self.context_weight * ctx]).tocsr()
        return X

    def fit(self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[str] | None = None
            ) -> "TextClassifier":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        texts, labels = [str(t) for t in texts], [str(y) for y in labels]
        self.info = {"n_train": len(texts), "data_hash": data_hash(texts, labels),
                     "label_counts": {c: labels.count(c) for c in sorted(set(labels))}}
        if self.features == "both":
            self._parts = [replace(self, features="tfidf").fit(texts, labels, contexts),
                           replace(self, features="e5", c=self.c_e5).fit(texts, labels, contexts)]
            self.classes = self._parts[0].classes
            return self
        X = self._features(texts, contexts, fit=True)
        if self.kind == "lr":
            self._clf = LogisticRegression(C=self.c, max_iter=3000, class_weight="balanced").fit(X, labels)
        else:
            smallest = min(labels.count(c) for c in set(labels))
            folds = max(2, min(self.calibration_folds, smallest))
            self._clf = CalibratedClassifierCV(LinearSVC(C=self.c, class_weight="balanced"), method="sigmoid",
                                               cv=folds).fit(X, labels)
        self.classes = [str(c) for c in self._clf.classes_]
        return self

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        if self._parts:
            tfidf, e5 = (m.predict_proba(texts, contexts) for m in self._parts)
            return self.mix * tfidf + (1.0 - self.mix) * e5
        if self._clf is None:
            raise RuntimeError("the classifier is not trained: call fit() or load()")
        return self._clf.predict_proba(self._features([str(t) for t in texts], contexts))

    def predict(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> list[tuple[str, float]]:
        p = self.predict_proba(texts, contexts)
        return [(self.classes[i], float(row[i])) for row, i in zip(p, p.argmax(axis=1))]

    def save(self, directory: str | Path, name: str) -> Path:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"vec": self._vec, "ctx_vec": self._ctx_vec, "clf": self._clf, "parts": self._parts},
                    directory / "model.joblib", compress=3)
        _write_meta(directory, name, classes=self.classes, c=self.c, context_weight=self.context_weight,
                    calibration_folds=self.calibration_folds, kind=self.kind, features=self.features, mix=self.mix,
                    **self.info)
        return directory

    @classmethod
    def load(cls, directory: str | Path, name: str) -> "TextClassifier":
        import joblib

        meta = _read_meta(directory, name)
        model = cls(c=meta["c"], context_weight=meta["context_weight"], calibration_folds=meta["calibration_folds"],
                    kind=meta["kind"], features=meta["features"], mix=meta["mix"], classes=meta["classes"],
                    info={k: meta[k] for k in ("n_train", "data_hash", "label_counts")})
        parts = joblib.load(Path(directory) / "model.joblib")
        model._vec, model._ctx_vec, model._clf = parts["vec"], parts["ctx_vec"], parts["clf"]
        model._parts = parts["parts"]
        return model


# ---- customer-service intents (agent console) -----------------------------------------------------

def _lines(block: str) -> list[str]:
    return [x.strip() for x in block.split("|") if x.strip()]


# Bitext's 27 intents, written for this project in English and Chinese (about 8 + 5 per intent).
CS_SEEDS: dict[str, str] = {
    "cancel_order": "I want to cancel my order | please cancel order {{Order Number}} | "
                    "how do I cancel the order I just placed | can you help me cancel a purchase | "
                    "I no longer want this order, cancel it | cancel the last order I made | 我要取消订单 | "
                    "帮我把订单{{Order Number}}取消 | 刚下的单能取消吗 | 不想要了，取消这个订单",
    "change_order": "I need to change my order | can I add another item to my order | "
                    "modify the order I placed yesterday | I want to swap the colour in my order | "
                    "change the quantity on order {{Order Number}} | 我想修改订单 | 订单里能加一件吗 | 帮我把订单的颜色换一下 | 修改订单数量",
    "place_order": "I want to place an order | how do I buy this item | help me make a purchase | "
                   "I'd like to order two of these | can I order by phone | 我想下单 | 怎么购买这个商品 | 帮我下个单 | 我要买两件",
    "track_order": "where is my order | track order {{Order Number}} | what is the status of my order | "
                   "has my order shipped yet | when will my package arrive | check my order status | 我的订单到哪了 | "
                   "查一下订单{{Order Number}}的状态 | 我的快递什么时候到 | 订单发货了吗",
    "get_refund": "I want a refund | how do I get my money back | please refund order {{Order Number}} | "
                  "I need to request a refund for a damaged item | can I get reimbursed | 我要退款 | 怎么申请退款 | "
                  "东西坏了，请退钱 | 能把钱退给我吗",
    "track_refund": "where is my refund | has my refund been processed | check the status of my refund | "
                    "I'm still waiting for my refund | when will I receive the refund money | 我的退款到哪了 | 退款怎么还没到账 | "
                    "查一下退款进度 | 退款处理好了吗",
    "check_refund_policy": "what is your refund policy | can I get a refund if I change my mind | "
                           "how many days do I have to ask for a refund | do you offer money back guarantees | "
                           "你们的退款政策是什么 | 七天无理由退款吗 | 多少天内可以退款",
    "delivery_options": "what delivery options do you have | do you offer express shipping | "
                        "can I choose next day delivery | which shipping methods are available | "
                        "do you ship to {{Delivery City}} | 有哪些配送方式 | 可以发顺丰吗 | 能次日达吗 | 支持哪些快递",
    "delivery_period": "how long does delivery take | when will my order be delivered | "
                       "how many days for shipping | what is the estimated delivery time | 发货要多久 | 几天能送到 | "
                       "大概什么时候到货 | 配送需要几天",
    "change_shipping_address": "I need to change my shipping address | update the delivery address on my order | "
                               "I moved, how do I change where it ships | wrong address on my order, fix it | "
                               "我要修改收货地址 | 地址填错了，帮我改一下 | 怎么更换配送地址",
    "set_up_shipping_address": "how do I add a shipping address | set up a new delivery address | "
                               "I want to save another address to my account | add a second shipping address | "
                               "怎么添加收货地址 | 新增一个收货地址 | 设置默认地址",
    "payment_issue": "my payment failed | I was charged twice | the payment did not go through | "
                     "there is a problem with my card payment | I paid but the order shows unpaid | 付款失败了 | "
                     "被重复扣款了 | 付了钱订单还显示未付款 | 支付出问题了",
    "check_payment_methods": "what payment methods do you accept | can I pay with PayPal | "
                             "do you take credit cards | is cash on delivery available | can I pay with UPI | "
                             "支持哪些付款方式 | 可以用支付宝吗 | 能货到付款吗 | 可以信用卡支付吗",
    "check_invoice": "I want to see my invoice | where can I find the invoice for order {{Order Number}} | "
                     "check my bill | show me the invoice details | 我想查看发票 | 订单的发票在哪里看 | 查一下我的账单",
    "get_invoice": "send me the invoice | I need an invoice for my purchase | can you email me a receipt | "
                   "download the invoice for {{Order Number}} | 请给我开发票 | 把发票发到我邮箱 | 我需要一张收据",
    "complaint": "I want to file a complaint | your service is terrible | "
                 "I am very unhappy with how I was treated | I want to complain about the delivery driver | "
                 "this is unacceptable, I want to complain | 我要投诉 | 你们的服务太差了 | 对处理结果很不满意，要投诉",
    "review": "I want to leave a review | how do I rate a product | I'd like to give feedback on my purchase | "
              "where can I write a review | 我想给商品写评价 | 怎么评价商品 | 我想反馈一下使用感受",
    "contact_customer_service": "how do I contact customer service | what is your support phone number | "
                                "I need to speak to customer support | what are your customer service hours | "
                                "怎么联系客服 | 客服电话是多少 | 客服几点上班",
    "contact_human_agent": "I want to talk to a human | let me speak to a real person | connect me to an agent | "
                           "stop, I need a human agent | can I chat with a live representative | 转人工 | 我要找人工客服 | "
                           "帮我接通真人客服 | 不要机器人，要人工",
    "create_account": "I want to create an account | how do I sign up | open a new account for me | "
                      "register a new user | 我想注册账号 | 怎么注册 | 帮我开个新账户",
    "delete_account": "delete my account | I want to close my account | how do I remove my profile permanently | "
                      "cancel my membership account | 注销我的账号 | 我要删除账户 | 怎么永久注销",
    "edit_account": "I need to update my account details | change the name on my profile | "
                    "edit my account information | update my phone number | 修改账户信息 | 我想改一下手机号 | 更新个人资料",
    "switch_account": "how do I switch accounts | I want to use my other account | change to a different user | "
                      "log into another profile | 怎么切换账号 | 换另一个账户登录 | 切换到我的另一个账号",
    "recover_password": "I forgot my password | reset my password | I can't remember my login password | "
                        "help me recover my account password | 忘记密码了 | 怎么重置密码 | 帮我找回密码",
    "registration_problems": "I can't register | the sign up form gives an error | registration is not working | "
                             "I never got the verification email | 注册不了 | 注册的时候报错 | 收不到注册验证码",
    "newsletter_subscription": "subscribe me to the newsletter | I want to unsubscribe from your emails | "
                               "how do I sign up for your newsletter | stop sending me promotional emails | "
                               "订阅你们的优惠邮件 | 取消订阅邮件 | 不要再给我发推广邮件",
    "check_cancellation_fee": "is there a fee to cancel | how much does it cost to cancel my order | "
                              "do you charge a cancellation fee | will I pay a penalty for cancelling | 取消订单要手续费吗 | "
                              "取消有违约金吗 | 退订收费吗",
    # beyond Bitext's 27: what a shop's tickets are also about (questions on a product, a product gone wrong)
    "product_question": "does this phone come in other colours | is this watch water resistant | "
                        "how long is the warranty on this blender | how many hours does the battery last | "
                        "what material is this bag made of | does it work with an iPhone | is this in stock | "
                        "what size should I order in these shoes | is it worth the price | "
                        "what do buyers say about it | 这款有其他颜色吗 | 这个手表能防水吗 | 保修期多长时间 | "
                        "电池能用几个小时 | 鞋码偏大还是偏小 | 这款值不值得买",
    "product_problem": "the item I received is broken | my parcel arrived damaged | "
                       "it stopped working after a few days | what I got does not match the description | "
                       "I received the wrong item | the screen came cracked | "
                       "the quality is much worse than in the photos | it is defective and I want it replaced | "
                       "收到的商品是坏的 | 包裹破了，东西也摔坏了 | 用了几天就不能用了 | 发错货了 | 实物和描述不一样 | 质量比图片差很多",
}


def cs_seed_data() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for intent, block in CS_SEEDS.items():
        for line in _lines(block):
            texts.append(line)
            labels.append(intent)
    return texts, labels


@dataclass
class CSPrediction:
    intent: str
    confidence: float
    needs_human: bool
    alternatives: list[tuple[str, float]]


class CSIntentClassifier:
    """Customer-service intent with a calibrated confidence.

    `needs_human` is set when the intent is contact_human_agent or the confidence is under `threshold`,
    which training picks from out-of-fold predictions: the lowest confidence above which at least
    `target_precision` of the predictions were right.
    """

    NAME = "cs_intent"

    def __init__(self, model: TextClassifier | None = None, threshold: float = 0.5):
        self.model, self.threshold = model, threshold

    @classmethod
    def train(cls, texts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
              with_seeds: bool = True, target_precision: float = 0.9, folds: int = 3) -> "CSIntentClassifier":
        """Train on (texts, labels), plus the built-in bilingual seeds unless with_seeds is False.

        Few examples (the seeds alone: about 8 per intent) train logistic regression over e5 embeddings,
        which generalises across wordings and languages; a real data set trains the TF-IDF SVM."""
        texts, labels = list(texts or []), list(labels or [])
        if with_seeds or not texts:
            seed_t, seed_l = cs_seed_data()
            texts, labels = texts + seed_t, labels + seed_l
        small = len(texts) < 50 * len(set(labels))
        make = (lambda: TextClassifier(c=100.0, kind="lr", features="e5")) if small else TextClassifier
        conf, correct = _oof_confidence(texts, labels, folds, make)
        return cls(make().fit(texts, labels), _precision_threshold(conf, correct, target_precision))

    def predict(self, text: str) -> CSPrediction:
        p = self.model.predict_proba([text])[0]
        order = np.argsort(-p)
        best = self.model.classes[order[0]]
        conf = float(p[order[0]])
        return CSPrediction(best, conf, conf < self.threshold or best == "contact_human_agent",
                            [(self.model.classes[i], float(p[i])) for i in order[1:3]])

    def save(self, directory: str | Path) -> Path:
        out = self.model.save(directory, self.NAME)
        meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
        meta["threshold"] = self.threshold
        (out / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> "CSIntentClassifier":
        meta = _read_meta(directory, cls.NAME)
        return cls(TextClassifier.load(directory, cls.NAME), meta.get("threshold", 0.5))


def _oof_confidence(texts: list[str], labels: list[str], folds: int, make=None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    smallest = min(int((y == c).sum()) for c in set(labels))
    conf, correct = np.zeros(len(y)), np.zeros(len(y), dtype=bool)
    for tr, te in StratifiedKFold(max(2, min(folds, smallest)), shuffle=True, random_state=0).split(texts, y):
        model = (make or TextClassifier)().fit([texts[i] for i in tr], y[tr].tolist())
        pred = model.predict([texts[i] for i in te])
        conf[te] = [c for _, c in pred]
        correct[te] = [lab == y[i] for (lab, _), i in zip(pred, te)]
    return conf, correct


def _precision_threshold(conf: np.ndarray, correct: np.ndarray, target: float) -> float:
    """Lowest confidence t such that predictions with confidence >= t are right at least `target` of the time."""
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        kept = conf >= t
        if kept.any() and correct[kept].mean() >= target:
            return float(t)
    return 0.95


def read_labelled_file(path: str | Path) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV/TSV with utterance|text + intent|label columns, or JSONL {text, label}."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".jsonl":
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        df = pd.DataFrame(rows)
    else:
        df = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", encoding="utf-8-sig")
    text_col = next((c for c in ("utterance", "text", "review") if c in df.columns), None)
    label_col = next((c for c in ("intent", "label") if c in df.columns), None)
    if text_col is None or label_col is None:
        raise ValueError(f"{path}: need a text column (utterance|text) and a label column (intent|label); "
                         f"found {list(df.columns)}")
    df = df.dropna(subset=[text_col, label_col])
    return df[text_col].astype(str).tolist(), df[label_col].astype(str).tolist()


# ---- per-turn dialogue intent (dialogue engine) ---------------------------------------------------

_FILL = {
    "p_en": _lines("wireless earbuds | running shoes | a laptop | a phone | a backpack | a smart watch | a usb c cable "
                   "| a blender | a moisturizer | headphones | a charger | sneakers | a power bank | a water bottle"),
    "p_zh": _lines("蓝牙耳机 | 跑鞋 | 笔记本电脑 | 手机 | 双肩包 | 智能手表 | 数据线 | 破壁机 | 面霜 | 头戴式耳机 | 充电宝 | 运动鞋 | 保温杯"),
    "b": _lines("boAt | Sony | Nike | Apple | Samsung | Xiaomi | Lenovo | Puma | OnePlus | 华为 | 小米 | 李宁"),
    "n": _lines("500 | 1000 | 1500 | 2000 | 3000 | 5000 | 200 | 300"),
    "a_en": _lines("battery | sound | comfort | size | quality | delivery | camera | screen | price"),
    "a_zh": _lines("续航 | 音质 | 舒适度 | 尺码 | 质量 | 物流 | 拍照 | 屏幕 | 价格"),
    "o": _lines("O10023 | O10457 | O11002 | O10981 | O10310"),
    "k": _lines("first | second | third | last | cheaper | black"),
    "k_zh": _lines("第一个 | 第二个 | 第三个 | 最后一个 | 便宜的那个 | 黑色的"),
}

# label -> templates; {p} product, {b}/{b2} brands, {n} price, {a} aspect, {o} order id, {k} which one
DIALOGUE_SEEDS: dict[str, str] = {
    "browse": "show me {p} | I'm looking for {p} | any {p} under {n}? | recommend {p} | "
              "do you have {p} under {n} rupees | what {p} do you have | find me {p} with good {a} | "
              "cheap {p} please | best {p} for running | I need {p} for my dad | something cheaper | "
              "show me more options | anything in black? | what about {b}? | does it have noise cancellation | "
              "what do reviews say about the {a} | tell me more about the {k} one | is it waterproof | "
              "how are the reviews for this one | {p} with rating above 4 | is it in stock | "
              "what's the price of the {k} one | {b} {p} | looking for a gift for my sister | "
              "how is the {a} on this one | do you sell {p} | I want {p} that is good for travel | "
              "any good deals on {p} today | show {b} options below {n} | need {p}, budget {n} | "
              "what colours does the {k} one come in | suggest something for a college student | "
              "is there a bigger size | what's popular right now | how much is the {k} one | "
              "how much does it cost | what's the rating of the {k} one | is the {k} one available in size 9 | "
              "does the {k} one come with a case | I want to buy {p} | thanks, can you recommend something else | "
              "ok, anything else I might like | my room is too hot, what can help | "
              "my old phone is slow, what should I get | suggest something for back pain while working | "
              "what would go well with my new laptop | 推荐一款{p} | 有没有{n}元以内的{p} | 我想买{p} | 给我看看{p} | 有便宜一点的吗 | "
              "还有别的颜色吗 | 这款{a}怎么样 | 评价怎么样 | {k}多少钱 | 有没有防水的{p} | 适合跑步的{p}有哪些 | {b}的{p}有吗 | 评分4分以上的{p} | 有货吗 | "
              "预算{n}左右的{p} | 送女朋友什么好 | 看看{b}的 | 这个{a}好不好 | 有大一码的吗 | 最近什么卖得好 | 找一款{a}好的{p} | 你们卖{p}吗 | "
              "给我推荐几样我可能喜欢的东西 | 还有别的推荐吗 | 谢谢，再推荐几个 | 房间太热了，有什么能帮上忙的",
    "compare": "compare the first two | which is better, the {b} or the {b2} | {b} vs {b2} | "
               "what's the difference between these two | how does the first one compare to the second | "
               "which one has better {a} | which of these is the cheapest | "
               "is the second one better than the first | compare them | pros and cons of these two | "
               "which one would you pick between these | compare {b} and {b2} {p} | "
               "{b} or {b2}, which should I get | which has the longer warranty | how do they differ in {a} | "
               "which is lighter | is the {b} worth it over the {b2} | side by side please | "
               "which of the three is best for me | 这两款有什么区别 | {b}和{b2}哪个好 | 比较一下前两个 | 对比一下这两款 | 第一个和第二个哪个更值得买 | "
               "哪款{a}更好 | 这几个里哪个最便宜 | 帮我比一比 | {b}还是{b2}，选哪个 | 这三个哪个性价比最高 | 两款的{a}比起来怎么样 | 有什么不同",
    "purchase": "add it to my cart | add the {k} one to cart | I'll take it | buy the {k} one | "
                "I want to buy this | put two of them in my cart | checkout | I want to order the {b} one | "
                "place the order | add 2 of those to the basket | purchase this please | "
                "let's go with the cheaper one, add it | ok get me that one | add {b} {p} to my cart | "
                "I'll buy the {k} one | yes, order it | proceed to payment | get me 3 of these | I'm ready to buy | "
                "add one more for my brother | make it two | 加入购物车 | 把{k}加到购物车 | 就买这个了 | 我要下单 | 帮我下单 | 买两个 | 结算 | "
                "我要买{k} | 就要这款了 | 加购 | 来一个{k} | 好，下单吧 | 把{b}的{p}加入购物车 | 去付款 | 买三件",
    "support": "where is my order | track order {o} | what's the status of my order {o} | "
               "I want to return the shoes | how do I get a refund | my package hasn't arrived | "
               "cancel my order {o} | the item arrived damaged | change my delivery address | "
               "what is your return policy | I was charged twice | my order is late | how long does delivery take | "
               "talk to a human agent | I can't log in to my account | do you ship to Bangalore | has {o} shipped | "
               "I received the wrong item | how do I exchange for a bigger size | what's the warranty policy | "
               "when will my refund come | I need an invoice for {o} | which courier has my order | "
               "what's the tracking number | what's its current status | show me my past orders | 我的订单到哪了 | "
               "查一下订单{o} | 我要退货 | 怎么退款 | 快递还没到 | 取消订单{o} | 收到的东西坏了 | 修改收货地址 | 退货政策是什么 | 重复扣款了 | 转人工 | 登录不了账号 | "
               "发货要多久 | {o}发货了吗 | 发错货了 | 怎么换货 | 保修政策是什么 | 退款什么时候到账 | 我要开发票 | 快递单号是多少 | 现在是什么状态 | 我以前的订单",
    "chitchat": "hi | hello there | thanks! | thank you so much | who are you | what can you do | good morning | "
                "bye | you're funny | how are you today | tell me a joke | nice | ok cool | what's your name | "
                "have a nice day | are you a robot | lol | great, thanks for the help | hey | good night | "
                "that's all for now | 你好 | 谢谢 | 你是谁 | 你能做什么 | 早上好 | 再见 | 哈哈 | 好的 | 辛苦了 | 讲个笑话 | 你叫什么名字 | 你是机器人吗 | "
                "没事了 | 晚安 | 嗨 | 谢谢你的帮助",
}

_RULES: dict[str, list[re.Pattern]] = {
    "purchase": [re.compile(r"\b(add (?:one|another|\d+) more|add(?: \w+){0,4} to (?:my |the )?(?:cart|basket|bag)|"
                            r"i'?ll (?:take|buy)|buy (?:it|this|that|the|them|one|two)|check ?out|"
                            r"place (?:the|my|an) order|proceed to pay\w*|order it)\b", re.I),
                 re.compile(r"加入购物车|加到购物车|加购|下单|结算|就买|就要这|我要买(?:这|那|第)|去付款")],
    "support": [re.compile(r"\b(o\d{5}|refund|return (?:it|the|this|policy)|track(?:ing)?|where is my|"
                           r"cancel (?:my|the) order|order status|status of my|invoice|warranty|human|agent|"
                           r"log ?in|password|"
                           r"charged twice|damaged|wrong item|exchange|courier|(?:current |order |delivery )status|"
                           r"(?:my|'s|past|previous) orders|order history)\b", re.I),
                re.compile(r"订单|退货|退款|换货|快递还没|物流信息|发货了吗|发票|人工|客服|登录|密码|扣款|发错|保修")],
    "compare": [re.compile(r"\b(compare|comparison|vs\.?|versus|difference|differ|better than|"
                           r"\w+er than (?:the|that|this|it)|which (?:one |of (?:these|them|the \w+) )?"
                           r"(?:is|has|should|would)|pros and cons|side by side)\b", re.I),
                re.compile(r"比较|对比|区别|哪个好|哪个更|哪款更|哪款好|选哪个|比一比|有什么不同|哪个性价比")],
    "chitchat": [re.compile(r"^(hi|hello|hey|thanks?(?: you)?(?: so much)?|bye|good (?:morning|evening|night)|ok|okay|"
                            r"cool|nice|lol|who are you|what can you do)[\s!.?,]*$", re.I),
                 re.compile(r"^(你好|您好|嗨|谢谢|多谢|再见|好的|哈哈+|早上好|晚安|你是谁|你能做什么)[\s！!。？?，]*$")],
}
RULE_BONUS = 2.5  # added to the model's log-probability of a label whose rule fires


def dialogue_seed_data(variants: int = 6, seed: int = 0) -> tuple[list[str], list[str]]:
    """Seed utterances with their slots filled `variants` times (distinct fillings only)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for label, block in DIALOGUE_SEEDS.items():
        for template in _lines(block):
            seen = set()
            for _ in range(variants if "{" in template else 1):
                text = _fill(template, rng)
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
                    labels.append(label)
    return texts, labels


def _fill(template: str, rng: random.Random) -> str:
    zh = is_chinese(template)
    b, b2 = rng.sample(_FILL["b"], 2)
    return template.format(p=rng.choice(_FILL["p_zh" if zh else "p_en"]), b=b, b2=b2, n=rng.choice(_FILL["n"]),
                           a=rng.choice(_FILL["a_zh" if zh else "a_en"]), o=rng.choice(_FILL["o"]),
                           k=rng.choice(_FILL["k_zh" if zh else "k"]))


class DialogueIntentClassifier:
    """Per-turn intent: browse | compare | purchase | support | chitchat (English and Chinese).

    `context` (optional): {"shown_products": int, "last_intent": str}. With two or more products on
    screen, "which one ..." leans to compare; a short follow-up leans to the previous intent.
    """

    NAME = "dialogue_intent"

    def __init__(self, model: TextClassifier | None = None):
        self.model = model or TextClassifier(c=10.0, kind="lr").fit(*dialogue_seed_data())

    def predict(self, text: str, context: dict | Sequence[str] | None = None) -> tuple[str, float]:
        """(label, confidence). `context`: {"shown_products": int, "last_intent": str}, or the previous
        user turns (the last one's intent is then used as last_intent)."""
        text = (text or "").strip()
        if not text:
            return "chitchat", 1.0
        if context is not None and not isinstance(context, dict):
            previous = [t for t in context if isinstance(t, str) and t.strip()]
            context = {"last_intent": self.predict(previous[-1])[0]} if previous else {}
        logp = np.log(np.clip(self.model.predict_proba([text])[0], 1e-6, 1.0))
        index = {c: i for i, c in enumerate(self.model.classes)}
        for label, patterns in _RULES.items():
            if any(p.search(text) for p in patterns):
                logp[index[label]] += RULE_BONUS
        self._context_priors(text, context or {}, logp, index)
        p = np.exp(logp - logp.max())
        p /= p.sum()
        best = int(p.argmax())
        return self.model.classes[best], float(p[best])

    @staticmethod
    def _context_priors(text: str, context: dict, logp: np.ndarray, index: dict[str, int]) -> None:
        shown = int(context.get("shown_products") or 0)
        if shown >= 2 and re.search(r"\bwhich\b|哪个|哪款|哪一个", text, re.I):
            logp[index["compare"]] += 1.0
        last = context.get("last_intent")
        if last in index and len(text) <= 25:
            logp[index[last]] += 0.5

    def save(self, directory: str | Path) -> Path:
        return self.model.save(directory, self.NAME)

    @classmethod
    def load(cls, directory: str | Path) -> "DialogueIntentClassifier":
        return cls(TextClassifier.load(directory, cls.NAME))


# ---- purchase propensity --------------------------------------------------------------------------

UCI_NUMERIC = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
               "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues", "SpecialDay"]
UCI_CATEGORICAL = ["Month", "OperatingSystems", "Browser", "Region", "TrafficType", "VisitorType", "Weekend"]
CONVERSATION = ["cart_adds", "price_questions", "comparison_turns", "sentiment", "n_turns"]
BASE_FEATURES = UCI_NUMERIC + UCI_CATEGORICAL + CONVERSATION
MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"])}
VISITOR = {"Returning_Visitor": 0, "New_Visitor": 1, "Other": 2}
FEATURE_TEXT = {
    "PageValues": "value of the pages viewed", "ProductRelated": "products viewed",
    "ProductRelated_Duration": "time spent on products", "ExitRates": "exit rate", "BounceRates": "bounce rate",
    "Administrative": "account/order pages", "Administrative_Duration": "time on account/order pages",
    "Informational": "information pages", "Informational_Duration": "time on information pages",
    "Month": "month", "VisitorType": "returning vs new visitor", "Weekend": "weekend", "SpecialDay": "near a holiday",
    "cart_adds": "items added to cart", "price_questions": "price questions", "comparison_turns": "comparisons asked",
    "sentiment": "tone of the conversation", "n_turns": "conversation length", "TrafficType": "traffic source",
    "OperatingSystems": "operating system", "Browser": "browser", "Region": "region",
    "pages_total": "pages viewed in all", "duration_total": "time on site",
    "page_value_per_product": "page value per product",
}


def uci_features(df) -> tuple[Any, np.ndarray | None]:
    """UCI Online Shoppers rows -> (model frame, Revenue labels or None). Months/visitor types as numbers."""
    X = df[[c for c in UCI_NUMERIC + UCI_CATEGORICAL if c in df.columns]].copy()
    X["Month"] = df["Month"].astype(str).str[:3].str.lower().map(MONTHS)
    X["VisitorType"] = df["VisitorType"].map(VISITOR).fillna(2)
    X["Weekend"] = df["Weekend"].astype(str).str.upper().eq("TRUE").astype(int)
    y = df["Revenue"].astype(str).str.upper().eq("TRUE").astype(int).to_numpy() if "Revenue" in df else None
    return X, y


def _complete(X):
    """All base features (missing ones empty) in a fixed order, plus the engineered ones."""
    X = X.copy()
    for col in BASE_FEATURES:
        if col not in X:
            X[col] = np.nan
    return with_engineered(X[BASE_FEATURES])


def with_engineered(X):
    """Derived features (totals, page value per product viewed) and empty conversation columns if absent."""
    X = X.copy()
    for col in CONVERSATION:
        if col not in X:
            X[col] = np.nan
    X["pages_total"] = X["Administrative"] + X["Informational"] + X["ProductRelated"]
    X["duration_total"] = X["Administrative_Duration"] + X["Informational_Duration"] + X["ProductRelated_Duration"]
    X["page_value_per_product"] = X["PageValues"] / (X["ProductRelated"] + 1.0)
    return X


@dataclass
class Factor:
    feature: str
    description: str
    value: float | None
    contribution: float      # log-odds points (TreeSHAP) this feature adds to the prediction

    @property
    def direction(self) -> str:
        return "raises" if self.contribution > 0 else "lowers"


@dataclass
class Propensity:
    probability: float
    factors: list[Factor]
    features: dict[str, float | None]
    model: str

    def to_dict(self) -> dict:
        d = asdict(self)
        for f, obj in zip(d["factors"], self.factors):
            f["direction"] = obj.direction
        return d


@dataclass
class PurchasePropensityModel:
    """LightGBM over session features, isotonic-calibrated on out-of-fold scores; TreeSHAP factors.

    Calibration follows CalibratedClassifierCV(ensemble=False): the booster that predicts is trained
    on all rows, the isotonic map on its cross-validated scores, so the factors explain the same booster
    that produces the calibrated probability.
    """

    n_estimators: int = 400
    learning_rate: float = 0.02
    num_leaves: int = 15
    min_child_samples: int = 40
    folds: int = 5
    seed: int = 0
    features: list[str] = field(default_factory=list)
    defaults: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5
    info: dict = field(default_factory=dict)
    page_values: dict[str, float] = field(default_factory=dict)  # product -> historical page value (store)

    def __post_init__(self):
        self._booster = self._iso = None

    def _make(self):
        import lightgbm as lgb
        return lgb.LGBMClassifier(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                  num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
                                  subsample=0.8, subsample_freq=1, colsample_bytree=0.7, reg_lambda=1.0,
                                  random_state=self.seed, n_jobs=1, verbose=-1)

    def fit(self, X, y: np.ndarray, source: str = "") -> "PurchasePropensityModel":
        from sklearn.isotonic import IsotonicRegression
        from sklearn.model_selection import StratifiedKFold

        X = _complete(X)
        self.features = list(X.columns)
        self.defaults = {c: float(X[c].median()) for c in X.columns if X[c].notna().any()}
        raw = np.zeros(len(y))
        for tr, te in StratifiedKFold(self.folds, shuffle=True, random_state=self.seed).split(X, y):
            raw[te] = self._make().fit(X.iloc[tr], y[tr]).predict_proba(X.iloc[te])[:, 1]
        self._iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        self._booster = self._make().fit(X, y)
        self.threshold = _best_f1_threshold(np.clip(self._iso.predict(raw) + 1e-6 * (raw - 0.5), 0, 1), y)
        digest = hashlib.sha256(np.nan_to_num(X.to_numpy(dtype=float), nan=-1.0).tobytes() + np.asarray(y).tobytes())
        self.info = {"n_train": int(len(y)), "positive_rate": float(np.mean(y)), "source": source,
                     "data_hash": digest.hexdigest()[:16]}
        return self

    def _frame(self, X):
        return _complete(X)[self.features]

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated P(purchase) per row.

        Isotonic regression is a step function: sessions in one step would tie, losing the booster's
        ranking (and PR-AUC). A 1e-6 slope on the raw score breaks the ties without moving calibration."""
        raw = self._booster.predict_proba(self._frame(X))[:, 1]
        return np.clip(self._iso.predict(raw) + 1e-6 * (raw - 0.5), 0.0, 1.0)

    def explain(self, X, top: int = 5) -> list[list[Factor]]:
        """Per row, the features with the largest TreeSHAP contributions (log-odds), largest first."""
        F = self._frame(X)
        contrib = self._booster.predict_proba(F, pred_contrib=True)[:, :-1]  # last column: the bias
        out = []
        for row, values in zip(contrib, F.to_numpy(dtype=float)):
            order = np.argsort(-np.abs(row))[:top]
            out.append([Factor(self.features[i], FEATURE_TEXT.get(self.features[i], self.features[i]),
                               None if np.isnan(values[i]) else float(values[i]), round(float(row[i]), 4))
                        for i in order if abs(row[i]) > 1e-9])
        return out

    def predict_session(self, signals: "SessionSignals", top: int = 5) -> Propensity:
        """Calibrated purchase probability of a live session and the factors behind it."""
        import pandas as pd

        feats = signals.features(self.defaults)
        X = pd.DataFrame([{c: feats.get(c, np.nan) for c in BASE_FEATURES}])
        return Propensity(round(float(self.predict_proba(X)[0]), 4), self.explain(X, top)[0],
                          {k: (None if np.isnan(v) else v) for k, v in feats.items()}, self.info.get("source", ""))

    def explain_session(self, behaviour: dict, top: int = 5) -> dict:
        """`predict_session` for a session's behaviour counts (assistant.session.Session.behaviour())."""
        return self.predict_session(SessionSignals.from_behaviour(behaviour, self.page_values), top).to_dict()

    def save(self, directory: str | Path) -> Path:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"booster": self._booster, "iso": self._iso, "page_values": self.page_values},
                    directory / "model.joblib", compress=3)
        params = {k: getattr(self, k) for k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                                                 "folds", "seed", "features", "defaults", "threshold")}
        _write_meta(directory, "purchase_propensity", **params, **self.info)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "PurchasePropensityModel":
        import joblib

        meta = _read_meta(directory, "purchase_propensity")
        model = cls(**{k: meta[k] for k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                                             "folds", "seed", "features", "defaults", "threshold")},
                    info={k: meta[k] for k in ("n_train", "positive_rate", "source", "data_hash") if k in meta})
        parts = joblib.load(Path(directory) / "model.joblib")
        model._booster, model._iso = parts["booster"], parts["iso"]
        model.page_values = parts.get("page_values", {})
        return model


def _best_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    prec, rec, th = precision_recall_curve(y, p)
    f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
    return float(th[int(np.argmax(f1))]) if len(th) else 0.5


_PRICE_Q = re.compile(r"\b(price|cost|how much|cheaper|discount|deal|offer|budget|under \d+|rupees|₹)|多少钱|价格|便宜|"
                      r"优惠|打折|预算|\d+元", re.I)


@dataclass
class SessionSignals:
    """What a live assistant session knows, mapped into the UCI feature space.

    | model feature            | live session source                                                  |
    |--------------------------|----------------------------------------------------------------------|
    | ProductRelated           | distinct products the shopper saw (cards shown, get_product)         |
    | ProductRelated_Duration  | seconds from the session's first to its last product turn            |
    | Administrative(+Duration)| support turns (orders, account) and their seconds                    |
    | Informational(+Duration) | chit-chat / store-information turns and their seconds                |
    | BounceRates              | 1.0 for a single-turn session, else 0.0                              |
    | ExitRates                | 1 / (turns + products viewed): the share of "pages" that can be exits|
    | PageValues               | mean historical page value of the products viewed (store sessions:   |
    |                          | revenue of converting sessions that viewed it / its views), 0 if none|
    | Month, Weekend           | the session's start time                                             |
    | VisitorType              | Returning_Visitor when the user has past orders or events, else New  |
    | SpecialDay, OS, Browser, Region, TrafficType | unknown: the training median                     |
    | cart_adds, price_questions, comparison_turns, sentiment, n_turns | counted from the conversation|
    """

    product_views: int = 0
    product_seconds: float = 0.0
    support_turns: int = 0
    support_seconds: float = 0.0
    info_turns: int = 0
    info_seconds: float = 0.0
    n_turns: int = 0
    page_value: float = 0.0
    started_at: datetime | None = None
    returning: bool = False
    cart_adds: int = 0
    price_questions: int = 0
    comparison_turns: int = 0
    sentiment: float | None = None

    def features(self, defaults: dict[str, float] | None = None) -> dict[str, float]:
        defaults = defaults or {}
        when = self.started_at or datetime.now()
        pages = self.n_turns + self.product_views
        feats = {
            "Administrative": self.support_turns, "Administrative_Duration": self.support_seconds,
            "Informational": self.info_turns, "Informational_Duration": self.info_seconds,
            "ProductRelated": self.product_views, "ProductRelated_Duration": self.product_seconds,
            "BounceRates": 1.0 if self.n_turns <= 1 else 0.0, "ExitRates": 1.0 / max(pages, 1),
            "PageValues": self.page_value, "Month": when.month, "Weekend": int(when.weekday() >= 5),
            "VisitorType": VISITOR["Returning_Visitor" if self.returning else "New_Visitor"],
            "cart_adds": self.cart_adds, "price_questions": self.price_questions,
            "comparison_turns": self.comparison_turns, "n_turns": self.n_turns,
            "sentiment": np.nan if self.sentiment is None else self.sentiment,
        }
        for k in ("SpecialDay", "OperatingSystems", "Browser", "Region", "TrafficType"):
            feats[k] = defaults.get(k, np.nan)
        return {k: float(v) for k, v in feats.items()}

    @classmethod
    def from_behaviour(cls, b: dict, page_values: dict | None = None) -> "SessionSignals":
        """From the counts a session keeps (assistant.session.Session.behaviour()); optional keys:
        viewed (product ids), seconds, price_questions, sentiment, started_at, returning."""
        viewed = list(b.get("viewed") or [])
        values = [page_values.get(p, 0.0) for p in viewed] if page_values else []
        turns = int(b.get("turns", 0))
        seconds = float(b.get("seconds", 30.0 * turns))
        support = int(b.get("support_turns", 0))
        per_turn = seconds / max(turns, 1)
        return cls(product_views=int(b.get("products_seen", len(viewed))),
                   product_seconds=per_turn * max(turns - support, 0), support_turns=support,
                   support_seconds=per_turn * support, n_turns=turns,
                   page_value=float(np.mean(values)) if values else 0.0, started_at=b.get("started_at"),
                   returning=bool(b.get("returning", False)), cart_adds=int(b.get("cart_adds", 0)),
                   price_questions=int(b.get("price_questions", 0)), comparison_turns=int(b.get("comparisons", 0)),
                   sentiment=b.get("sentiment"))

    @classmethod
    def from_conversation(cls, user_turns: Sequence[str], turn_seconds: Sequence[float] | None = None,
                          viewed_product_ids: Iterable[str] = (), cart_adds: int = 0, page_values: dict | None = None,
                          started_at: datetime | None = None, returning: bool = False,
                          intent_classifier: DialogueIntentClassifier | None = None,
                          sentiment_fn=None) -> "SessionSignals":
        """Count the signals of a conversation: per-turn intents, price questions, tone, views, cart adds."""
        turns = [t for t in user_turns if t and t.strip()]
        secs = list(turn_seconds or [30.0] * len(turns))
        clf = intent_classifier or DialogueIntentClassifier()
        labels = [clf.predict(t)[0] for t in turns]
        viewed = list(dict.fromkeys(viewed_product_ids))
        values = [page_values.get(p, 0.0) for p in viewed] if page_values else []

        def secs_of(kinds):
            return float(sum(s for s, lab in zip(secs, labels) if lab in kinds))

        from assistant.insights.sentiment import lexicon_score
        tone = [float(sentiment_fn(t) if sentiment_fn else lexicon_score(t)) for t in turns]
        return cls(product_views=len(viewed), product_seconds=secs_of({"browse", "compare", "purchase"}),
                   support_turns=labels.count("support"), support_seconds=secs_of({"support"}),
                   info_turns=labels.count("chitchat"), info_seconds=secs_of({"chitchat"}), n_turns=len(turns),
                   page_value=float(np.mean(values)) if values else 0.0, started_at=started_at, returning=returning,
                   cart_adds=cart_adds, price_questions=sum(bool(_PRICE_Q.search(t)) for t in turns),
                   comparison_turns=labels.count("compare"), sentiment=float(np.mean(tone)) if tone else None)


# ---- training sets: the store's own sessions, or the UCI data --------------------------------------

SESSION_GAP_S = 30 * 60


def _sessions(store) -> list[tuple[str, list]]:
    """(user_id, events) per session: a user's view/cart/purchase events split at 30-minute gaps."""
    by_user: dict[str, list] = {}
    for i in store.interactions:
        if i.event in ("view", "cart", "purchase") and i.user_id and i.ts:
            by_user.setdefault(i.user_id, []).append(i)
    out = []
    for uid, events in by_user.items():
        events.sort(key=lambda e: e.ts)
        current = [events[0]]
        for prev, e in zip(events, events[1:]):
            if (datetime.fromisoformat(e.ts) - datetime.fromisoformat(prev.ts)).total_seconds() > SESSION_GAP_S:
                out.append((uid, current))
                current = []
            current.append(e)
        out.append((uid, current))
    return out


def _before_purchase(events: list) -> tuple[list, int, float]:
    """Events before the session's first purchase, the label, and that purchase's revenue share per view."""
    cut = next((k for k, e in enumerate(events) if e.event == "purchase"), None)
    if cut is None:
        return events, 0, 0.0
    revenue = sum(e.value for e in events[cut:] if e.event == "purchase")
    return events[:cut], 1, float(revenue)


def store_sessions(store):
    """Store sessions as (frame in the UCI feature space, purchase labels, product page values).

    A session is labelled 1 when it contains a purchase; its features use only the events before the
    first purchase. PageValues follows Google Analytics: a product's page value is the revenue of the
    converting sessions that viewed it divided by the sessions that viewed it, computed leaving the
    session itself out (otherwise the label leaks into the feature). Sessions with no events before
    their purchase are skipped: there is nothing to predict from.
    """
    import pandas as pd

    price = {pid: (p.price or 0.0) for pid, p in store.products.items()}
    rows, labels, sessions = [], [], []
    for uid, events in _sessions(store):
        pre, label, _ = _before_purchase(events)
        if pre:
            revenue = sum(price.get(e.product_id, 0.0) * e.value for e in events if e.event == "purchase")
            sessions.append((uid, pre, label, revenue))
    views: dict[str, int] = {}
    value: dict[str, float] = {}
    for _, pre, label, revenue in sessions:
        for pid in {e.product_id for e in pre}:
            views[pid] = views.get(pid, 0) + 1
            value[pid] = value.get(pid, 0.0) + (revenue if label else 0.0)
    seen_users: set[str] = set()
    for uid, pre, label, revenue in sorted(sessions, key=lambda s: s[1][0].ts):
        products = {e.product_id for e in pre}
        loo = [(value[p] - (revenue if label else 0.0)) / (views[p] - 1) for p in products if views[p] > 1]
        rows.append(_session_row(pre, float(np.mean(loo)) if loo else 0.0, uid in seen_users, store))
        labels.append(label)
        seen_users.add(uid)
    page_values = {p: value[p] / views[p] for p in views}
    return pd.DataFrame(rows, columns=BASE_FEATURES), np.array(labels, dtype=int), page_values


def _session_row(pre: list, page_value: float, returning: bool, store) -> dict:
    start, end = datetime.fromisoformat(pre[0].ts), datetime.fromisoformat(pre[-1].ts)
    viewed = [e.product_id for e in pre if e.event in ("view", "cart")]
    cats: dict[str, set] = {}
    for pid in viewed:
        product = store.products.get(pid)
        cats.setdefault(product.category[0] if product and product.category else "", set()).add(pid)
    signals = SessionSignals(
        product_views=len(set(viewed)), product_seconds=(end - start).total_seconds(), n_turns=len(pre),
        page_value=page_value, started_at=start, returning=returning,
        cart_adds=sum(e.event == "cart" for e in pre),
        comparison_turns=sum(len(v) for v in cats.values() if len(v) >= 2))
    feats = signals.features()
    for k in ("price_questions", "sentiment", "Administrative", "Administrative_Duration", "Informational",
              "Informational_Duration"):
        feats[k] = np.nan  # the event log does not know these; the live session does
    return feats


def train_propensity(store=None, uci_csv: str | Path | None = None, min_positives: int = 30
                     ) -> PurchasePropensityModel:
    """The default model: from the store's own sessions when it has enough, else from the UCI data."""
    if store is not None:
        X, y, page_values = store_sessions(store)
        if y.sum() >= min_positives and (len(y) - y.sum()) >= min_positives:
            model = PurchasePropensityModel().fit(X, y, source=f"store:{store.name}")
            model.page_values = page_values
            return model
    if uci_csv is not None and Path(uci_csv).exists():
        import pandas as pd

        X, y = uci_features(pd.read_csv(uci_csv))
        return PurchasePropensityModel().fit(X, y, source="uci")
    raise ValueError("no training data for purchase propensity: the store has too few sessions with and without "
                     f"a purchase (need {min_positives} of each) and no UCI Online Shoppers CSV was given")
