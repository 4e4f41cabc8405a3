"""Machine-learning models behind one ``Model`` port: adapters, calibration, ensembles, ONNX, registry."""
