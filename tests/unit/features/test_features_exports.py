import atb.features


def test_public_api_is_sorted_and_pinned():
    assert atb.features.__all__ == sorted(atb.features.__all__)
    assert atb.features.__all__ == [
        "FeatureConfig", "FeatureFrame", "FeatureSpec", "INDICATORS", "INDICATOR_NAMES",
        "NORMALIZE_METHODS", "Normalizer", "build_features", "drop_warmup", "feature_names",
        "load_feature_config", "resample_candles",
    ]
    for name in atb.features.__all__:
        assert getattr(atb.features, name) is not None


def test_labels_are_not_reexported():
    assert not hasattr(atb.features, "triple_barrier")
    assert not hasattr(atb.features, "forward_return")
