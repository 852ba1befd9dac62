"""The checkpoint directory, split by job.

    format.py    the layout (file names, format version, the Checkpoint a load returns, library versions)
    save.py      writing a complete checkpoint (atomically, through swap.py)
    load.py      reading and verifying one; the model, config and metrics rebuilt from it
    swap.py      a whole folder replaced by another with renames, so readers never see half of a save
    lock.py      one writer per checkpoint: an OS lock beside the folder
    training.py  what a training does around its checkpoint: refuse to clobber, save on Ctrl-C, give the lock back

Layout:
    model.safetensors   weights (safetensors: no pickle)
    config.yaml         the resolved config, enough to rebuild the model
    meta.json           kind, format version, step, metrics, library versions
    train_state.pt      optimizer, step, RNG states; tensors and builtins only,
                        loaded with torch.load(weights_only=True)
    ...                 anything else the trainer adds (metrics.csv, figures, tokenizer.json)
"""
