"""RGB-thermal segmentation datasets on disk: readers, joint transforms, the sample check.

Layer 2 (beside ``model`` and ``metrics``): pure numpy / OpenCV / torch readers of MFNet, FMB,
``sccosf synth`` and generic (``sccosf extract``) folders, used by training, evaluation and the
commands above them. Modules, one concept each: ``datasets`` (the readers and ``build_dataset``),
``segmentation_dataset`` (what every reader shares: the base class, reading images, labels and
split files), ``folder_dataset`` (a team's own data in the generic layout of ``folder_layout``:
``classes.yaml``, dataset.yaml's thermal normalisation, optional labels), ``image_file`` (one image
file read and decoded, OpenCV's C-level complaints kept off stderr), ``transforms`` (joint
augmentation), ``dataset_check`` (decode every sample before training), ``synth_metadata`` (the
file that marks a synthetic folder) and ``errors`` (``DatasetError`` and the one-line message of a
sample that fails).

Importing this package imports nothing heavy: ``sccosf_ros.synthetic`` reads the metadata file
through it and must stay free of torch.
"""
