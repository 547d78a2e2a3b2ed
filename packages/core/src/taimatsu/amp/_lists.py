"""Autocast's op lists: which ops run in which dtype, per device type (PyTorch's lists).

Each op gets one cast policy on a device:

  LOWER     floating inputs are cast to the autocast dtype (float16 / bfloat16): the ops
            that gain from it and keep their accuracy (matrix products, convolutions).
  FP32      floating inputs are cast to float32: ops whose range or accuracy suffers in
            16 bits (exp/log/pow, reductions, norms, losses) -- on CUDA; CPU's list is
            shorter and mostly losses and linear-algebra decompositions.
  FP32_DTYPE  the op runs with dtype=float32 unless the caller gave a dtype (softmax, sum,
            cumsum, ...): the result is float32 without a separate cast of the input.
  PROMOTE   floating inputs are cast to the widest floating type among them, so ops that
            need matching dtypes (cat, dot, addcmul, ...) take mixed inputs.
  BANNED    the op refuses to run under autocast (binary_cross_entropy on CUDA).

An op absent from a device's list runs in whatever dtype its inputs have. Names are the
public function names (linalg and fft functions with their namespace as prefix, as torch
names their kernels: linalg_inv, fft_rfft). Besides torch's registered kernels, the lists
carry the composites that torch decomposes into a listed op on that device (einsum,
tensordot, inner and multi_dot reach bmm/mm on CPU; on CUDA cross_entropy reaches
log_softmax + nll_loss, trace reaches sum and inner reaches tensordot), because taimatsu
implements those directly instead.
"""

from __future__ import annotations

LOWER = "lower_precision_fp"
FP32 = "fp32"
FP32_DTYPE = "fp32_set_opt_dtype"
PROMOTE = "promote"
BANNED = "banned"


def _table(**groups: str) -> dict:
    """{op name: policy} from policy=whitespace-separated names."""
    return {name: policy for policy, names in groups.items() for name in names.split()}


_CUDA = {
    LOWER: """
        conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d
        prelu addmm addmv addr matmul einsum mm mv linalg_vecdot linear addbmm baddbmm bmm
        chain_matmul linalg_multi_dot lstm_cell gru_cell rnn_tanh_cell rnn_relu_cell
        scaled_dot_product_attention
        """,
    FP32: """
        acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow
        softplus layer_norm group_norm frobenius_norm nuclear_norm cosine_similarity
        poisson_nll_loss cosine_embedding_loss nll_loss hinge_embedding_loss kl_div l1_loss
        smooth_l1_loss huber_loss mse_loss margin_ranking_loss multilabel_margin_loss
        soft_margin_loss triplet_margin_loss multi_margin_loss
        binary_cross_entropy_with_logits dist pdist cdist renorm logsumexp
        upsample_nearest1d upsample_nearest2d upsample_nearest3d upsample_linear1d
        upsample_bilinear2d upsample_trilinear3d upsample_bicubic2d
        cross_entropy normalize trace
        """,
    FP32_DTYPE: """
        prod softmax log_softmax softmin cumprod cumsum linalg_vector_norm
        linalg_matrix_norm sum norm
        """,
    PROMOTE: """
        addcdiv addcmul atan2 bilinear cross dot vdot grid_sample index_put tensordot
        scatter_add inner
        """,
    BANNED: "binary_cross_entropy",
}

_CPU = {
    LOWER: """
        conv1d conv2d conv3d bmm mm linalg_vecdot baddbmm addmm addbmm linear matmul conv_tbc
        conv_transpose1d conv_transpose2d conv_transpose3d prelu scaled_dot_product_attention
        einsum tensordot inner chain_matmul linalg_multi_dot
        """,
    FP32: """
        avg_pool3d binary_cross_entropy grid_sample polar prod quantile nanquantile stft cdist
        trace view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr
        ormqr pinverse max_pool3d max_unpool2d max_unpool3d adaptive_avg_pool3d
        reflection_pad1d reflection_pad2d replication_pad1d replication_pad2d
        replication_pad3d mse_loss cosine_embedding_loss nll_loss hinge_embedding_loss
        poisson_nll_loss smooth_l1_loss cross_entropy l1_loss huber_loss margin_ranking_loss
        soft_margin_loss triplet_margin_loss multi_margin_loss ctc_loss kl_div
        multilabel_margin_loss binary_cross_entropy_with_logits
        fft_fft fft_ifft fft_fft2 fft_ifft2 fft_fftn fft_ifftn fft_rfft fft_irfft fft_rfft2
        fft_irfft2 fft_rfftn fft_irfftn fft_hfft fft_ihfft
        linalg_cond linalg_matrix_rank linalg_solve linalg_cholesky linalg_svdvals
        linalg_eigvals linalg_eigvalsh linalg_inv linalg_householder_product linalg_tensorinv
        linalg_tensorsolve geqrf qr svd triangular_solve fractional_max_pool2d
        fractional_max_pool3d adaptive_max_pool3d linalg_qr linalg_cholesky_ex linalg_svd
        linalg_eig linalg_eigh linalg_lstsq linalg_inv_ex
        """,
    PROMOTE: "stack cat index_copy",
}

# {op name: {device type: policy}}; an op missing for a device has no policy there
POLICIES: dict[str, dict[str, str]] = {}
for _device, _groups in (("cuda", _CUDA), ("cpu", _CPU)):
    for _name, _policy in _table(**_groups).items():
        POLICIES.setdefault(_name, {})[_device] = _policy
del _device, _groups, _name, _policy
