r"""Layer roles from tensor names alone: which matrix of which block a weight is, in the common checkpoint layouts.

Conventions (docs/design.md §3): a weight matrix is analysed stored (out, in),
as ``torch.nn.Linear.weight``; the FFN key matrix :math:`K = W_\mathrm{in}` is
(d_ff × d_model) and :math:`W_\mathrm{out}` is (d_model × d_ff).

Roles
-----
=============  ==============================================================================
``ffn_in``     key matrix of a plain FFN (BERT/ViT ``intermediate.dense``, GPT-2 ``c_fc``,
               T5 ``wi``, ``fc1``, ``dense_h_to_4h``, ``lin1``)
``ffn_gate``   gated (GLU) FFN, gate branch: input side, key matrix (``gate_proj``, T5 ``wi_0``, ``w1``)
``ffn_up``     gated FFN, linear branch: input side (``up_proj``, T5 ``wi_1``, ``w3``)
``ffn_out``    output matrix (``output.dense`` outside attention, ``c_proj`` under ``mlp``,
               ``down_proj``, T5 ``wo``, ``fc2``, ``dense_4h_to_h``, ``w2``)
``attn_q/k/v`` attention projections (``q_proj``, ``query``, T5 ``q``; GPT-2's fused ``c_attn`` and
               timm's ``qkv`` are split into their three blocks of rows)
``attn_o``     attention output (``o_proj``, ``out_proj``, ``attention.output.dense``, ``attn.c_proj``, T5 ``o``)
``attn_qkv``   a fused projection whose row layout is interleaved or unequal (``query_key_value``,
               ``qkv_proj``, ``Wqkv``): analysed whole
``embedding``  token, position and type embeddings
``lm_head``    the output (unembedding) matrix
``router``     a mixture-of-experts router (``block_sparse_moe.gate``, ``mlp.gate``, ``router``)
``other``      any other matrix (poolers, classifiers, relative-position tables): analysed all the same
=============  ==============================================================================

Mixture-of-experts weights (``experts.N.*``, ``block_sparse_moe``) keep their
FFN role and get the expert index in ``expert``. GPT-2's ``Conv1D`` layers
(``c_fc``, ``c_proj``, ``c_attn``, ``q_attn``) store their weight (in, out):
they are transposed to (out, in) before analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._checks import check_int

__all__ = ["MatrixPart", "classify_tensor", "ROLES"]

ROLES = (
    "ffn_in", "ffn_gate", "ffn_up", "ffn_out",
    "attn_q", "attn_k", "attn_v", "attn_o", "attn_qkv",
    "embedding", "lm_head", "router", "other",
)

_LAYER = re.compile(r"(?:^|\.)(?:layers|layer|h|blocks|block|encoder_layers|decoder_layers)\.(\d+)(?:\.|$)")
_EXPERT = re.compile(r"(?:^|\.)experts\.(\d+)(?:\.|$)")
_ATTN = re.compile(r"att|SelfAttention|EncDecAttention", re.IGNORECASE)

# (pattern on the name without its ".weight" suffix, role) - first match wins; "@attn" / "@mlp" = only inside /
# outside an attention block
_RULES: tuple[tuple[str, str], ...] = (
    (r"(?:^|\.)(?:embed_tokens|word_embeddings|wte|tok_embeddings|token_embedding|embed_in)$", "embedding"),
    (r"(?:^|\.)(?:wpe|position_embeddings|embed_positions|pos_embed|position_embedding|token_type_embeddings)$", "embedding"),
    (r"^(?:shared|embeddings?)$", "embedding"),
    (r"(?:^|\.)(?:lm_head|embed_out)$|^output$", "lm_head"),
    (r"(?:^|\.)(?:block_sparse_moe|mlp|moe|feed_forward)\.gate$|(?:^|\.)router(?:\.layer|\.classifier)?$|shared_expert_gate$", "router"),
    (r"(?:^|\.)(?:gate_proj|wi_0|w1)$", "ffn_gate"),
    (r"(?:^|\.)(?:up_proj|wi_1|w3)$", "ffn_up"),
    (r"(?:^|\.)(?:down_proj|w2)$", "ffn_out"),
    (r"(?:^|\.)(?:c_fc|wi|fc1|fc_in|dense_h_to_4h|lin1|intermediate\.dense)$", "ffn_in"),
    (r"(?:^|\.)(?:fc2|fc_out|dense_4h_to_h|lin2)$", "ffn_out"),
    (r"(?:^|\.)(?:q_proj|query|q_lin|wq|q|q_attn)$@attn", "attn_q"),
    (r"(?:^|\.)(?:k_proj|key|k_lin|wk|k)$@attn", "attn_k"),
    (r"(?:^|\.)(?:v_proj|value|v_lin|wv|v)$@attn", "attn_v"),
    (r"(?:^|\.)(?:o_proj|out_proj|out_lin|wo|o|proj|c_proj|dense|output\.dense)$@attn", "attn_o"),
    (r"(?:^|\.)(?:query_key_value|qkv_proj|Wqkv|qkv|c_attn)$@attn", "attn_qkv"),
    (r"(?:^|\.)(?:wo|c_proj|output\.dense)$@mlp", "ffn_out"),
)
_COMPILED = tuple(
    (re.compile(pat.split("@")[0]), pat.split("@")[1] if "@" in pat else "", role) for pat, role in _RULES
)
#: fused projections whose rows are [Q; K; V] in three equal blocks (GPT-2 Conv1D c_attn, timm attn.qkv)
_SPLIT_QKV = re.compile(r"(?:^|\.)(?:c_attn|attn\.qkv)$")
#: Phi-3's fused gated FFN: rows [gate; up] in two equal blocks
_SPLIT_GATE_UP = re.compile(r"(?:^|\.)gate_up_proj$")
#: GPT-2 Conv1D weights, stored (in, out)
_CONV1D = re.compile(r"(?:^|\.)(?:c_fc|c_proj|c_attn|q_attn)$")


@dataclass(frozen=True)
class MatrixPart:
    """One matrix to analyse, cut from a stored tensor by :func:`classify_tensor`.

    Attributes
    ----------
    name : str
        The row name: the tensor name, with ``":q"``, ``":k"``, ``":v"`` (split attention) or
        ``":gate"``, ``":up"`` (split gated FFN) appended for parts of a fused tensor.
    tensor : str
        The stored tensor it comes from.
    role : str
        One of :data:`ROLES`.
    layer : int or None
        Block index parsed from the name (``layers.N``, ``layer.N``, ``h.N``, ``blocks.N``, ``block.N``).
    expert : int or None
        Expert index (``experts.N``) of a mixture-of-experts weight.
    transpose : bool
        Whether the stored tensor is (in, out) and is transposed to (out, in) (GPT-2 ``Conv1D``).
    part : int
        Which block of rows (after any transpose) this matrix is.
    n_parts : int
        Into how many equal blocks of rows the tensor is split (1: the whole tensor).
    """

    name: str
    tensor: str
    role: str
    layer: int | None
    expert: int | None
    transpose: bool = False
    part: int = 0
    n_parts: int = 1

    def extract(self, arr):
        """This part of the stored 2-D array ``arr`` (transposed when ``transpose``; a view)."""
        a = arr.T if self.transpose else arr
        if self.n_parts == 1:
            return a
        rows = a.shape[0] // self.n_parts
        return a[self.part * rows:(self.part + 1) * rows]


def _role_of(stem: str) -> str:
    in_attn = bool(_ATTN.search(stem.rsplit(".", 1)[0])) if "." in stem else False
    for rx, ctx, role in _COMPILED:
        if ctx == "attn" and not in_attn:
            continue
        if ctx == "mlp" and in_attn:
            continue
        if rx.search(stem):
            return role
    return "other"


def _check_shape(shape) -> tuple[int, int]:
    """A stored 2-D shape: a tuple (or list) of two integers >= 0."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of 2 ints; got {type(shape).__name__} {shape!r:.80}")
    if len(shape) != 2:
        raise ValueError(f"shape must be a tuple of 2 ints (a matrix's stored shape); got {tuple(shape)!r:.80}")
    return tuple(check_int("shape", v, min=0) for v in shape)


def classify_tensor(name: str, shape) -> list[MatrixPart]:
    """The matrices to analyse in tensor ``name`` of ``shape`` (stored), with their roles, from the name alone.

    Recognises BERT/MiniLM, GPT-2 (``Conv1D``, transposed; fused ``c_attn`` split into Q, K, V),
    LLaMA/Mistral/Qwen (``gate_proj``, ``up_proj``, ``down_proj``), T5 (``wi``, ``wi_0``, ``wi_1``,
    ``wo``), ViT (Hugging Face and timm names), mixture-of-experts layers (``experts.N``,
    ``block_sparse_moe``) and attention Q/K/V/O (module notes of
    :mod:`rmt_sparsity.spectra._roles`). Unknown names get the role ``"other"``.

    Parameters
    ----------
    name : str
        The tensor's name in the checkpoint.
    shape : tuple of int
        Its stored shape (2-D).

    Returns
    -------
    list of MatrixPart
        One part, or three (``":q"``, ``":k"``, ``":v"``) for a fused Q/K/V tensor whose row count is
        divisible by 3, or two (``":gate"``, ``":up"``) for a fused ``gate_up_proj``.

    Examples
    --------
    >>> from rmt_sparsity.spectra import classify_tensor
    >>> [(p.role, p.layer) for p in classify_tensor("model.layers.3.mlp.gate_proj.weight", (11008, 4096))]
    [('ffn_gate', 3)]
    >>> [(p.name, p.role, p.transpose) for p in classify_tensor("h.0.attn.c_attn.weight", (768, 2304))]
    [('h.0.attn.c_attn.weight:q', 'attn_q', True), ('h.0.attn.c_attn.weight:k', 'attn_k', True), ('h.0.attn.c_attn.weight:v', 'attn_v', True)]
    >>> p, = classify_tensor("model.layers.1.block_sparse_moe.experts.7.w2.weight", (4096, 14336))
    >>> p.role, p.layer, p.expert
    ('ffn_out', 1, 7)
    >>> classify_tensor("encoder.layer.2.attention.output.dense.weight", (384, 384))[0].role
    'attn_o'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a tensor name (str); got {type(name).__name__} {name!r:.80}")
    shape = _check_shape(shape)
    stem = name[: -len(".weight")] if name.endswith(".weight") else name
    m = _LAYER.search(stem)
    layer = int(m.group(1)) if m else None
    m = _EXPERT.search(stem)
    expert = int(m.group(1)) if m else None
    transpose = bool(_CONV1D.search(stem))
    rows = shape[1] if transpose else shape[0]
    if _SPLIT_QKV.search(stem) and rows % 3 == 0 and rows >= 3:
        return [
            MatrixPart(f"{name}:{tag}", name, f"attn_{tag}", layer, expert, transpose, i, 3)
            for i, tag in enumerate(("q", "k", "v"))
        ]
    if _SPLIT_GATE_UP.search(stem) and rows % 2 == 0 and rows >= 2:
        return [
            MatrixPart(f"{name}:{tag}", name, f"ffn_{tag}", layer, expert, transpose, i, 2)
            for i, tag in enumerate(("gate", "up"))
        ]
    return [MatrixPart(name, name, _role_of(stem), layer, expert, transpose)]
