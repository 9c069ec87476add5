"""The purchase-propensity feature space: the UCI Online Shoppers session features plus conversation
features, their human-readable names, and the derived features the model adds.

Knows feature names and how UCI rows map into them; knows nothing about models or live sessions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

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


def complete_features(X):
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
