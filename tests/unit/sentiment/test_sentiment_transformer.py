import sys

import numpy as np
import pytest

from atb.errors import ConfigError, MissingExtraError, ModelError
from atb.sentiment import TransformersScorer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "company", "profit", "rose", "fell", "loss",
         "bitcoin", "hack", "record", "a", "net", "shares"]
TEXTS = ["the company profit rose", "bitcoin hack loss", "a record", "net loss shares fell the company"]


def _tiny_model(tmp_path, id2label):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(str(vocab_file))
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=64, id2label=id2label,
        label2id={v: k for k, v in id2label.items()})
    model = transformers.BertForSequenceClassification(config).eval()
    out = tmp_path / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out, model, tokenizer


def test_probabilities_equal_direct_forward_pass(tmp_path):
    import torch

    path, model, tokenizer = _tiny_model(tmp_path, {0: "Positive", 1: "NEGATIVE", 2: "neutral"})
    scorer = TransformersScorer(path, batch_size=3)
    proba = scorer.predict_proba(TEXTS)
    parts = []
    for batch in (TEXTS[:3], TEXTS[3:]):  # same batches (padding) as the adapter
        enc = tokenizer(batch, padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.no_grad():
            parts.append(torch.softmax(model(**enc).logits.to(torch.float64), dim=-1).numpy())
    direct = np.concatenate(parts)
    # adapter columns are negative, neutral, positive; the model's are positive, negative, neutral
    np.testing.assert_allclose(proba, direct[:, [1, 2, 0]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(scorer.score(TEXTS), direct[:, 0] - direct[:, 1], rtol=0, atol=1e-12)
    labels = np.array(["positive", "negative", "neutral"])
    assert scorer.classify(TEXTS) == labels[direct.argmax(axis=1)].tolist()


def test_bad_label_names_and_missing_path(tmp_path):
    path, _, _ = _tiny_model(tmp_path, {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(ModelError, match="id2label"):
        TransformersScorer(path)
    with pytest.raises(ConfigError, match="model_path"):
        TransformersScorer(tmp_path / "nope")


def test_missing_transformers_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` fail
    with pytest.raises(MissingExtraError, match=r"atb\[transformers\]") as err:
        TransformersScorer(tmp_path)
    assert err.value.extra == "transformers"
