"""Notebooks executed on a Dask cluster (`executor = "dask"`): one task per notebook.

`driver.py` is the `Executor` the execute stage calls: it connects to the scheduler (or
starts a local cluster), submits each notebook with `client.submit`, and hands back results
as the local pool does. `task.py` is what a worker runs: the notebook in a fresh kernel of
its own environment, through docgen's local pool. `files.py` packs the files a notebook
needs for a worker that does not share the project's folder.
"""
