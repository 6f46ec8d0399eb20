"""TensorBoardHandler: training curves, weight histograms and the graph of a hybridized block,
written as TensorBoard event files through tensorboardX (pip install tensorboardX).

    est.fit(train, val_data=test, epochs=5, event_handlers=[TensorBoardHandler('runs/lenet')])
    $ tensorboard --logdir runs
"""
import json

from .event_handler import BatchEnd, EpochEnd, TrainBegin, TrainEnd

__all__ = ["TensorBoardHandler", "symbol_to_graphdef"]


def _writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as e:
        raise ImportError("TensorBoardHandler needs tensorboardX: pip install tensorboardX "
                          "(or pip install 'plait[viz]')") from e
    return SummaryWriter


def symbol_to_graphdef(sym):
    """A TensorBoard GraphDef of a plait/MXNet Symbol: one node per op or variable, named
    by its Symbol name, with its attributes as strings."""
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    graph = json.loads(sym.tojson())
    nodes = graph["nodes"]
    defs = []
    for node in nodes:
        op = node["op"]
        attrs = node.get("attrs", {}) or {}
        defs.append(NodeDef(
            name=node["name"],
            op="Variable" if op == "null" else op,
            input=[nodes[i[0]]["name"] for i in node.get("inputs", [])],
            attr={k: AttrValue(s=str(v).encode("utf-8")) for k, v in attrs.items()}))
    return GraphDef(node=defs, versions=VersionDef(producer=22))


class TensorBoardHandler(TrainBegin, BatchEnd, EpochEnd, TrainEnd):
    """Logs the estimator's metrics (every epoch, and every `log_interval` batches when an
    int), the learning rate, parameter/gradient histograms every `histogram_period` epochs,
    and the hybridized graph once (after the first batch)."""

    def __init__(self, log_dir, log_interval="epoch", histogram_period=1, log_graph=True,
                 priority=1e8):
        if log_interval != "epoch" and not isinstance(log_interval, int):
            raise ValueError("TensorBoardHandler: log_interval must be an int or 'epoch', got %r"
                             % (log_interval,))
        self.log_dir = log_dir
        self.log_interval = log_interval
        self.histogram_period = histogram_period
        self.log_graph = log_graph
        self.priority = priority
        self.writer = _writer_class()(logdir=log_dir)
        self.global_batch = 0
        self.epoch = 0
        self._graph_written = False

    def _scalars(self, metrics, step):
        for metric in metrics:
            name, value = metric.get()
            if metric.num_inst:
                self.writer.add_scalar(name.replace(" ", "/", 1), float(value), step)

    def train_begin(self, estimator, *args, **kwargs):
        self.global_batch = 0
        self.epoch = 0

    def batch_end(self, estimator, *args, **kwargs):
        self.global_batch += 1
        if self.log_graph and not self._graph_written:
            cached = getattr(estimator.net, "_cached_graph", None)
            if cached:
                self.writer._get_file_writer().add_onnx_graph(symbol_to_graphdef(cached[1]))
            self._graph_written = True
        if isinstance(self.log_interval, int) and self.global_batch % self.log_interval == 0:
            self._scalars(estimator.train_metrics, self.global_batch)

    def epoch_end(self, estimator, *args, **kwargs):
        self.epoch += 1
        self._scalars(estimator.train_metrics, self.epoch)
        self._scalars(estimator.val_metrics, self.epoch)
        self.writer.add_scalar("learning_rate", float(estimator.trainer.learning_rate),
                               self.epoch)
        if self.histogram_period and self.epoch % self.histogram_period == 0:
            for name, param in estimator.net.collect_params().items():
                if param._data is None:
                    continue
                self.writer.add_histogram(name, param.data().asnumpy(), self.epoch)
                if param.grad_req != "null":
                    self.writer.add_histogram(name + "/grad", param.grad().asnumpy(),
                                              self.epoch)
        self.writer.flush()

    def train_end(self, estimator, *args, **kwargs):
        self.writer.flush()

    def close(self):
        self.writer.close()
