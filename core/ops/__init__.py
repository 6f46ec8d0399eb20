"""The operator registry and every op definition, one module per family."""
from . import registry  # noqa: F401
from . import (arith, unary, reduce, shape, join, indexing, sort, linalg,  # noqa: F401
               random, creation, grad_utils, nn_dense, nn_conv, nn_pool, nn_norm, nn_act,
               nn_loss, nn_seq, optim_ops, nn_ctc, nn_fused)
from . import nn_rnn  # noqa: F401,E402  (fused RNN; its OpDefs in nn_rnn_defs)
from . import control_flow, control_flow_loops  # noqa: F401,E402  (foreach/while_loop/cond)
from . import onnx_ops  # noqa: F401,E402  (hidden ops of the ONNX importer)
from . import (image_ops, contrib_resize, contrib_syncbn,  # noqa: F401,E402  (image, contrib)
               contrib_deform)
from . import misc_ops  # noqa: F401,E402  (add_n, hard_sigmoid, depth_to_space, moments, ...)
from . import linalg_mx  # noqa: F401,E402  (MXNet's linalg_* ops: gemm, potrf, trsm, det, ...)
from . import index_ops_mx  # noqa: F401,E402  (split_v2, batch_take, ravel, khatri_rao, ...)
from . import contrib_box  # noqa: F401,E402  (_contrib_box_iou, _contrib_box_nms)
from . import contrib_bipartite  # noqa: F401,E402  (_contrib_bipartite_matching)
from . import contrib_roi  # noqa: F401,E402  (_contrib_ROIAlign, ROIPooling)
from . import contrib_multibox, contrib_boxcoder  # noqa: F401,E402  (MultiBox*, box_encode/decode)
