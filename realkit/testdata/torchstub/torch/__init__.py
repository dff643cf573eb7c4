"""A stand-in for torch, for tests only: just enough for `python -m torch.distributed.run`
(see distributed/run.py). Put this folder first on PYTHONPATH; never install it."""
