"""Insight models over a store: review sentiment with aspects, purchase and dialogue intent, recommendations.

Each model trains from a store's own data (star ratings, sessions) or from a labelled file, saves
versioned artefacts, and knows nothing about prompts, tools or the UI.
"""
