"""The seed case as a runnable experiment: MNIST loading, the raw-TF and Keras MLPs, training.

This package is the only place in tbdiff allowed to import TensorFlow, and even here only
`models.py` does (lazily, in `models.tf_modules()`), so `mnist` and `train` stay importable
and testable without it.

- `mnist.load_mnist(data_dir)`: the old `read_data_sets` split, numpy only.
- `models.train_tensorflow / train_keras(data, TrainConfig, logdir, hooks)`: one model each.
- `models.ModelSpec`: the knobs the two seed models differ in (one program, parameterised).
- `train.train_from_args(args)`: what `tbdiff train-and-compare` runs before comparing.
- `ablation.ablate_from_args(args)`: `--ablate`, one variant per difference, resumable.
"""
