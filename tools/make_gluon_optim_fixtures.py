"""Make tests/fixtures/gluon/optim_{cases.json,updates.npz,sched.json,trainer.npz} with
real MXNet 1.9.1 (run with the anchor venv's python):

    /tmp/plait-anchors/mxnet/bin/python tools/make_gluon_optim_fixtures.py

* optimizer updates: for every case (optimizer name, kwargs, weight dtype) two weights
  ("fc_weight" (3, 4), "fc_bias" (4,)) are updated for 10 steps through
  mx.optimizer.get_updater with the list call Trainer makes; the weights after every step
  are recorded.  kwargs may name an lr scheduler as ["ClassName", {kwargs}].
* lr schedules: the learning rate of several schedulers for num_update 0..39.
* Trainer: gluon.Trainer over two Parameters, steps with batch sizes, lr_mult/wd_mult and
  grad_req='add'; the weights after every step.
* optim_converted.states: an MXNet Trainer state converted by tools/convert_mxnet_states.py.
No pickle: json + npz (allow_pickle=False)."""
import json
import os
import sys

import numpy as np
import mxnet as mx

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "gluon")
STEPS = 10
IDX2NAME = {0: "fc_weight", 1: "fc_bias"}

CASES = [
    ("sgd", {}, "float32"),
    ("sgd", {"momentum": 0.9, "wd": 0.01, "clip_gradient": 0.5, "rescale_grad": 0.5}, "float32"),
    ("sgd", {"momentum": 0.9, "learning_rate": 0.1,
             "lr_scheduler": ["FactorScheduler", {"step": 3, "factor": 0.5}]}, "float32"),
    ("sgd", {"learning_rate": 0.1, "wd": 0.1, "param_idx2name": IDX2NAME,
             "lr_mult": {0: 0.5}, "wd_mult": {"fc_bias": 2.0}}, "float32"),
    ("sgd", {"momentum": 0.9, "multi_precision": True, "learning_rate": 0.1}, "float16"),
    ("sgd", {"learning_rate": 0.1,
             "lr_scheduler": ["PolyScheduler", {"max_update": 8, "base_lr": 0.1, "pwr": 2,
                                                "warmup_steps": 2}]}, "float32"),
    ("nag", {"momentum": 0.9, "wd": 0.01, "clip_gradient": 0.4}, "float32"),
    ("nag", {"learning_rate": 0.05}, "float32"),
    ("signum", {}, "float32"),
    ("signum", {"momentum": 0.0, "wd": 0.01}, "float32"),
    ("signum", {"wd_lh": 0.01, "wd": 0.01, "clip_gradient": 0.3}, "float32"),
    ("lars", {"momentum": 0.9, "eta": 0.01, "wd": 0.001, "param_idx2name": IDX2NAME,
              "learning_rate": 0.5,
              "lr_scheduler": ["MultiFactorScheduler", {"step": [3, 6], "factor": 0.5}]},
     "float32"),
    ("lars", {"eta": 0.02, "learning_rate": 0.5}, "float32"),
    # DCASGD with momentum > 0 fails in MXNet 1.9.1 (`if mom:` on an NDArray): not a case
    ("dcasgd", {"wd": 0.01, "learning_rate": 0.1}, "float32"),
    ("dcasgd", {"learning_rate": 0.1, "clip_gradient": 0.5}, "float32"),
    ("adam", {}, "float32"),
    ("adam", {"wd": 0.01, "clip_gradient": 0.3, "rescale_grad": 2.0, "learning_rate": 0.01},
     "float32"),
    ("adam", {"lr_scheduler": ["CosineScheduler", {"max_update": 10, "base_lr": 0.01,
                                                   "warmup_steps": 3,
                                                   "warmup_begin_lr": 0.001}]}, "float32"),
    ("adam", {"multi_precision": True, "learning_rate": 0.01}, "float16"),
    ("adagrad", {}, "float32"),
    ("adagrad", {"wd": 0.01, "clip_gradient": 0.5, "rescale_grad": 0.5, "learning_rate": 0.1},
     "float32"),
    ("rmsprop", {}, "float32"),
    ("rmsprop", {"centered": True, "wd": 0.01, "clip_gradient": 0.5, "clip_weights": 1.0,
                 "learning_rate": 0.01}, "float32"),
    ("adadelta", {}, "float32"),
    ("adadelta", {"wd": 0.01, "clip_gradient": 0.5, "rho": 0.8, "rescale_grad": 2.0},
     "float32"),
    ("ftrl", {}, "float32"),
    ("ftrl", {"wd": 0.01, "lamda1": 0.1, "clip_gradient": 0.5, "beta": 2.0}, "float32"),
    ("adamax", {}, "float32"),
    ("adamax", {"wd": 0.01, "clip_gradient": 0.5}, "float32"),
    ("nadam", {}, "float32"),
    ("nadam", {"wd": 0.01, "clip_gradient": 0.5, "rescale_grad": 0.5}, "float32"),
    ("ftml", {}, "float32"),
    ("ftml", {"wd": 0.01, "clip_gradient": 0.5, "rescale_grad": 0.5, "learning_rate": 0.05},
     "float32"),
    ("lamb", {}, "float32"),
    ("lamb", {"wd": 0.01, "clip_gradient": 0.5, "lower_bound": 0.1, "upper_bound": 10.0,
              "learning_rate": 0.01}, "float32"),
    ("lamb", {"bias_correction": False, "learning_rate": 0.01}, "float32"),
    ("lbsgd", {"momentum": 0.9, "batch_scale": 2, "warmup_epochs": 1, "updates_per_epoch": 6,
               "wd": 0.01, "learning_rate": 0.1}, "float32"),
    ("lbsgd", {"warmup_strategy": "lars", "batch_scale": 3, "learning_rate": 0.05,
               "wd": 0.001, "clip_gradient": 0.5}, "float32"),
    ("lbsgd", {"warmup_strategy": "sqrt", "batch_scale": 3, "updates_per_epoch": 2,
               "warmup_epochs": 2, "begin_epoch": 1, "momentum": 0.5}, "float32"),
    ("lbsgd", {"warmup_strategy": "power2", "batch_scale": 4, "updates_per_epoch": 3,
               "rescale_grad": 0.5}, "float32"),
]

SCHEDULES = [
    ("FactorScheduler", {"step": 5, "factor": 0.5, "base_lr": 0.1}),
    ("FactorScheduler", {"step": 3, "factor": 0.1, "stop_factor_lr": 1e-4, "base_lr": 1.0,
                         "warmup_steps": 4, "warmup_begin_lr": 0.1}),
    ("MultiFactorScheduler", {"step": [5, 12, 20], "factor": 0.3, "base_lr": 0.2}),
    ("MultiFactorScheduler", {"step": [10], "factor": 0.5, "base_lr": 0.2, "warmup_steps": 5,
                              "warmup_mode": "constant", "warmup_begin_lr": 0.01}),
    ("PolyScheduler", {"max_update": 30, "base_lr": 0.1, "pwr": 2}),
    ("PolyScheduler", {"max_update": 25, "base_lr": 0.1, "pwr": 1, "final_lr": 0.01,
                       "warmup_steps": 5, "warmup_begin_lr": 0.02}),
    ("CosineScheduler", {"max_update": 30, "base_lr": 0.1}),
    ("CosineScheduler", {"max_update": 20, "base_lr": 0.1, "final_lr": 0.005,
                         "warmup_steps": 6, "warmup_begin_lr": 0.0}),
]


def make_sched(spec):
    name, kw = spec
    return getattr(mx.lr_scheduler, name)(**kw)


def run_case(name, kwargs, dtype, w_init, grads):
    kw = dict(kwargs)
    lr_mult = kw.pop("lr_mult", None)
    wd_mult = kw.pop("wd_mult", None)
    if "lr_scheduler" in kw:
        kw["lr_scheduler"] = make_sched(kw["lr_scheduler"])
    opt = mx.optimizer.create(name, **kw)
    if lr_mult:
        opt.set_lr_mult(lr_mult)
    if wd_mult:
        opt.set_wd_mult(wd_mult)
    upd = mx.optimizer.get_updater(opt)
    ws = [mx.nd.array(w, dtype=dtype) for w in w_init]
    out = []
    for t in range(STEPS):
        gs = [mx.nd.array(g[t], dtype=dtype) for g in grads]
        upd([0, 1], gs, ws)
        out.append([w.asnumpy().copy() for w in ws])
    return out


def trainer_cases(rng):
    """Trainer over Parameters a (2, 3) and b (3,): loss = sum(a * x) + sum(b * y)."""
    res = {}
    x = rng.standard_normal((STEPS, 2, 3)).astype(np.float32)
    y = rng.standard_normal((STEPS, 3)).astype(np.float32)
    a0 = rng.standard_normal((2, 3)).astype(np.float32)
    b0 = rng.standard_normal((3,)).astype(np.float32)
    res["x"], res["y"], res["a0"], res["b0"] = x, y, a0, b0
    variants = {
        "sgd_plain": dict(opt="sgd", params={"learning_rate": 0.1}, bs=4),
        "sgd_mult": dict(opt="sgd", params={"learning_rate": 0.1, "momentum": 0.9, "wd": 0.05},
                         bs=2, lr_mult=0.5, wd_mult=3.0),
        "adam_add": dict(opt="adam", params={"learning_rate": 0.05}, bs=3, grad_req="add"),
    }
    for key, v in variants.items():
        a = mx.gluon.Parameter("a", shape=(2, 3), grad_req=v.get("grad_req", "write"))
        b = mx.gluon.Parameter("b", shape=(3,), lr_mult=v.get("lr_mult", 1.0),
                               wd_mult=v.get("wd_mult", 1.0))
        for p, init in ((a, a0), (b, b0)):
            p.initialize(ctx=mx.cpu())
            p.set_data(mx.nd.array(init))
        tr = mx.gluon.Trainer([a, b], v["opt"], v["params"])
        hist = []
        for t in range(STEPS):
            with mx.autograd.record():
                loss = (a.data() * mx.nd.array(x[t])).sum() + (b.data() * mx.nd.array(y[t])).sum()
                loss = loss * loss
            loss.backward()
            tr.step(v["bs"])
            if v.get("grad_req") == "add" and t % 3 == 2:
                a.zero_grad()
            hist.append(np.concatenate([a.data().asnumpy().ravel(), b.data().asnumpy().ravel()]))
        res["tr_" + key] = np.stack(hist)
    return res


def converted_states(res):
    """A Trainer state saved by MXNet (pickle, under /tmp) and converted with
    tools/convert_mxnet_states.py to optim_converted.states; res gets the weights at the
    save and after 2 more steps."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import convert_mxnet_states
    a = mx.gluon.Parameter("a", shape=(2, 3))
    a.initialize(ctx=mx.cpu())
    a.set_data(mx.nd.ones((2, 3)))
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=0.05)
    tr = mx.gluon.Trainer([a], "adam", {"learning_rate": 0.05, "lr_scheduler": sched},
                          kvstore=None)
    coef = np.arange(6, dtype=np.float32).reshape(2, 3)
    for t in range(5):
        if t == 3:
            tmp = "/tmp/make_gluon_optim_fixtures.states"
            tr.save_states(tmp)
            convert_mxnet_states.main(tmp, os.path.join(OUT, "optim_converted.states"))
            os.remove(tmp)
            res["conv_saved"] = a.data().asnumpy()
        with mx.autograd.record():
            loss = (a.data() * mx.nd.array(coef + t)).sum()
        loss.backward()
        tr.step(2)
    res["conv_final"] = a.data().asnumpy()


def main():
    assert mx.__version__ == "1.9.1", mx.__version__
    os.environ.pop("MXNET_OPTIMIZER_AGGREGATION_SIZE", None)
    rng = np.random.default_rng(0)
    arrays = {}
    cases = []
    for i, (name, kwargs, dtype) in enumerate(CASES):
        w_init = [rng.standard_normal((3, 4)).astype(np.float32),
                  rng.standard_normal((4,)).astype(np.float32)]
        grads = [rng.standard_normal((STEPS, 3, 4)).astype(np.float32),
                 rng.standard_normal((STEPS, 4)).astype(np.float32)]
        if dtype == "float16":
            w_init = [w.astype(np.float16) for w in w_init]
            grads = [g.astype(np.float16) for g in grads]
        hist = run_case(name, kwargs, dtype, w_init, grads)
        for j in range(2):
            arrays["c%d_w%d" % (i, j)] = w_init[j]
            arrays["c%d_g%d" % (i, j)] = grads[j]
            arrays["c%d_out%d" % (i, j)] = np.stack([h[j] for h in hist])
        cases.append({"id": i, "optimizer": name, "kwargs": kwargs, "dtype": dtype})
    np.savez_compressed(os.path.join(OUT, "optim_updates.npz"), **arrays)
    with open(os.path.join(OUT, "optim_cases.json"), "w") as f:
        json.dump(cases, f, indent=1, default=str)
    sched = []
    for spec in SCHEDULES:
        s = make_sched(spec)
        sched.append({"name": spec[0], "kwargs": spec[1], "lrs": [s(n) for n in range(40)]})
    with open(os.path.join(OUT, "optim_sched.json"), "w") as f:
        json.dump(sched, f, indent=1)
    tres = trainer_cases(rng)
    converted_states(tres)
    np.savez_compressed(os.path.join(OUT, "optim_trainer.npz"), **tres)
    print("wrote %d optimizer cases, %d schedules" % (len(cases), len(sched)), file=sys.stderr)


if __name__ == "__main__":
    main()
