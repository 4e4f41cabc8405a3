"""Fixtures of the sentiment tests: a local HTTP server, the real news file, a trained classifier."""

from __future__ import annotations

import pytest

from ._server import LocalServer


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def phrasebank(shared_dir):
    return shared_dir / "data" / "sentiment" / "financial_phrasebank_50agree.csv"


@pytest.fixture(scope="session")
def news_file(shared_dir):
    return shared_dir / "data" / "news" / "crypto_news_2023-12.csv"


@pytest.fixture(scope="session")
def news_items(news_file):
    from atb.sentiment import CsvNewsCollector

    return CsvNewsCollector(news_file).collect()


@pytest.fixture(scope="session")
def comparison(phrasebank):
    """Classifier trained on the train split (seed 42) and both held-out reports."""
    from atb.sentiment import train_and_compare

    return train_and_compare(phrasebank, seed=42, test_fraction=0.2)
