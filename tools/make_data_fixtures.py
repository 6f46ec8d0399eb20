"""Fixtures for tests/gluon/data, made with real MXNet 1.9.1:

    /tmp/plait-anchors/mxnet/bin/python tools/make_data_fixtures.py

Writes tests/fixtures/data/:
  records.rec/.idx, records_seq.rec  RecordIO files written by MXNet (records with the magic
                                     number inside, at aligned and unaligned offsets, empty ones)
  records.npz                        the payloads and packed-header cases
  transforms.npz + transforms.json   inputs and MXNet's outputs of the vision transforms
  ndarrayiter.npz                    NDArrayIter batches for every last_batch_handle mode
  dataloader.npz                     DataLoader/BatchSampler index order with fixed seeds
  fashion_small/                     the first 300 train / 200 test images of Fashion-MNIST
                                     (from Debian's dataset-fashion-mnist), as gzipped IDX
"""
import gzip
import json
import os
import random
import struct
import sys

import numpy as np
import mxnet as mx
from mxnet.gluon.data.vision import transforms as T

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "data")
MAGIC = struct.pack("<I", 0xCED7230A)


def payloads():
    rng = np.random.RandomState(7)
    p = [b"", b"a", b"abcd", b"hello world", MAGIC, MAGIC + b"xy", b"ab" + MAGIC + b"cd",
         b"abcd" + MAGIC + b"efgh" + MAGIC, MAGIC + MAGIC + MAGIC, b"abcdefgh" + MAGIC,
         b"abc" + MAGIC + b"defgh" + MAGIC + b"i"]
    for n in (3, 17, 1000, 70001):
        p.append(rng.randint(0, 256, n).astype(np.uint8).tobytes())
    big = bytearray(rng.randint(0, 256, 4096).astype(np.uint8).tobytes())
    for pos in (0, 64, 128, 1001, 4092):
        big[pos:pos + 4] = MAGIC
    p.append(bytes(big))
    return p


def make_records():
    p = payloads()
    rec = mx.recordio.MXIndexedRecordIO(os.path.join(OUT, "records.idx"),
                                        os.path.join(OUT, "records.rec"), "w")
    for i, b in enumerate(p):
        rec.write_idx(i * 3 + 1, b)
    rec.close()
    seq = mx.recordio.MXRecordIO(os.path.join(OUT, "records_seq.rec"), "w")
    for b in reversed(p):
        seq.write(b)
    seq.close()
    packed = [mx.recordio.pack(mx.recordio.IRHeader(0, 3.5, 7, 0), b"payload"),
              mx.recordio.pack(mx.recordio.IRHeader(0, [1.0, 2.5, -3.0], 11, 12), b"xyz"),
              mx.recordio.pack((0, np.arange(5, dtype=np.float32), 2 ** 40, 5), b"")]
    arrays = {"payload%d" % i: np.frombuffer(b, np.uint8) for i, b in enumerate(p)}
    arrays.update({"packed%d" % i: np.frombuffer(b, np.uint8) for i, b in enumerate(packed)})
    arrays["n_payloads"] = np.array(len(p))
    np.savez_compressed(os.path.join(OUT, "records.npz"), **arrays)


def make_transforms():
    rng = np.random.RandomState(11)
    imgs = {"a": rng.randint(0, 256, (12, 17, 3)).astype(np.uint8),
            "b": rng.randint(0, 256, (9, 6, 3)).astype(np.uint8),
            "g": rng.randint(0, 256, (10, 8, 1)).astype(np.uint8)}
    cases, arrays = {}, {}

    def add(name, img, fn, seed=None):
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
        out = fn(mx.nd.array(imgs[img], dtype="uint8"))
        arrays[name] = out.asnumpy()
        cases[name] = {"img": img}

    for k, v in imgs.items():
        arrays["img_" + k] = v
    add("to_tensor_a", "a", T.ToTensor())
    add("to_tensor_g", "g", T.ToTensor())
    add("normalize_a", "a", lambda x: T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(
        T.ToTensor()(x)))
    add("normalize_g", "g", lambda x: T.Normalize(0.5, 0.2)(T.ToTensor()(x)))
    add("cast_a", "a", T.Cast("float16"))
    for interp in (0, 1, 2, 3, 4):
        add("resize_a_i%d" % interp, "a", T.Resize((8, 5), interpolation=interp))
        add("resize_up_b_i%d" % interp, "b", T.Resize((13, 20), interpolation=interp))
    add("resize_int_a", "a", T.Resize(7))
    add("resize_keep_a", "a", T.Resize(7, keep_ratio=True))
    add("resize_keep_b", "b", T.Resize(4, keep_ratio=True))
    add("resize_g", "g", T.Resize((5, 4)))
    add("center_crop_a", "a", T.CenterCrop(5))
    add("center_crop_rect_a", "a", T.CenterCrop((9, 4)))
    add("center_crop_up_b", "b", T.CenterCrop((8, 12)))
    add("center_crop_i2_a", "a", T.CenterCrop((14, 14), interpolation=2))
    for s in range(4):
        add("rrc_a_seed%d" % s, "a", T.RandomResizedCrop(6), seed=s)
        add("rrc_b_seed%d" % s, "b", T.RandomResizedCrop((5, 7), scale=(0.3, 0.9),
                                                         ratio=(0.5, 2.0)), seed=s)
    add("flip_lr_a", "a", lambda x: mx.nd.image.flip_left_right(x))
    add("flip_tb_a", "a", lambda x: mx.nd.image.flip_top_bottom(x))
    for a in (0.4, 1.3):
        for img in ("a", "b"):
            f = lambda x: x.astype("float32")  # noqa: E731
            add("brightness_%s_%g" % (img, a), img,
                lambda x: mx.nd.image.random_brightness(f(x), a, a))
            add("brightness_u8_%s_%g" % (img, a), img,
                lambda x: mx.nd.image.random_brightness(x, a, a))
            add("contrast_%s_%g" % (img, a), img,
                lambda x: mx.nd.image.random_contrast(f(x), a, a))
            add("contrast_u8_%s_%g" % (img, a), img,
                lambda x: mx.nd.image.random_contrast(x, a, a))
            add("saturation_%s_%g" % (img, a), img,
                lambda x: mx.nd.image.random_saturation(f(x), a, a))
            add("hue_%s_%g" % (img, a), img, lambda x: mx.nd.image.random_hue(f(x), a, a))
    for alpha in ((0.1, -0.2, 0.3), (1.5, 0.0, -2.0)):
        add("lighting_a_%g_%g_%g" % alpha, "a",
            lambda x: mx.nd.image.adjust_lighting(x.astype("float32"), alpha=alpha))
        cases["lighting_a_%g_%g_%g" % alpha]["alpha"] = list(alpha)
    chw = (imgs["a"].transpose(2, 0, 1) / 255.0).astype(np.float32)
    arrays["rot_src"] = chw
    for deg, zin, zout in ((30, False, False), (-75, False, False), (90, False, False),
                           (40, True, False), (40, False, True), (0, False, False)):
        key = "rot_%g_%d%d" % (deg, zin, zout)
        arrays[key] = mx.image.imrotate(mx.nd.array(chw), deg, zoom_in=zin,
                                        zoom_out=zout).asnumpy()
    arrays["rot_batch"] = mx.image.imrotate(mx.nd.array(np.stack([chw, chw[:, ::-1]])),
                                            mx.nd.array([15, -120])).asnumpy()
    batch = np.stack([imgs["a"], imgs["a"][::-1]])
    arrays["batch"] = batch
    arrays["to_tensor_batch"] = T.ToTensor()(mx.nd.array(batch, dtype="uint8")).asnumpy()
    arrays["normalize_batch"] = T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(
        mx.nd.array(arrays["to_tensor_batch"])).asnumpy()
    arrays["resize_batch"] = T.Resize((5, 6))(mx.nd.array(batch, dtype="uint8")).asnumpy()
    np.savez_compressed(os.path.join(OUT, "transforms.npz"), **arrays)
    with open(os.path.join(OUT, "transforms.json"), "w") as f:
        json.dump(cases, f, indent=0, sort_keys=True)


def make_ndarrayiter():
    arrays = {}
    data = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    label = np.arange(10, dtype=np.int64)
    for mode in ("pad", "discard", "roll_over"):
        for shuffle in (False, True):
            for bs in (3, 4, 25) if mode != "roll_over" else (3, 4):  # MXNet fails on 25
                np.random.seed(5)
                it = mx.io.NDArrayIter(data, label, batch_size=bs, shuffle=shuffle,
                                       last_batch_handle=mode)
                for epoch in range(3):
                    n = 0
                    for j, b in enumerate(it):
                        key = "%s_%d_%d_e%d_b%d" % (mode, shuffle, bs, epoch, j)
                        arrays[key + "_data"] = b.data[0].asnumpy()
                        arrays[key + "_label"] = b.label[0].asnumpy()
                        arrays[key + "_pad"] = np.array(b.pad)
                        n = j + 1
                    arrays["%s_%d_%d_e%d_n" % (mode, shuffle, bs, epoch)] = np.array(n)
                    it.reset()
    np.savez_compressed(os.path.join(OUT, "ndarrayiter.npz"), **arrays)


def make_dataloader():
    arrays = {}
    ds = mx.gluon.data.ArrayDataset(np.arange(23, dtype=np.float32), np.arange(23) * 10)
    for last in ("keep", "discard", "rollover"):
        np.random.seed(9)
        dl = mx.gluon.data.DataLoader(ds, batch_size=5, shuffle=True, last_batch=last)
        for epoch in range(3):
            for j, (x, y) in enumerate(dl):
                arrays["%s_e%d_b%d_x" % (last, epoch, j)] = x.asnumpy()
                arrays["%s_e%d_b%d_y" % (last, epoch, j)] = y.asnumpy()
            arrays["%s_e%d_n" % (last, epoch)] = np.array(j + 1)
    # batchify dtypes
    samples = [(mx.nd.array([1, 2], dtype="uint8"), 3, 2.5, np.int32(4), np.ones(2, np.float16))]
    b = mx.gluon.data.dataloader.default_batchify_fn(samples * 3)
    arrays["batchify_dtypes"] = np.array([np.dtype(x.dtype).name for x in b])
    np.savez_compressed(os.path.join(OUT, "dataloader.npz"), **arrays)


def png_bytes(img):
    """A minimal RGB PNG encoder (MXNet's Python has neither OpenCV nor Pillow here)."""
    import zlib
    h, w, _ = img.shape
    raw = b"".join(b"\0" + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def make_imagerecorditer():
    rng = np.random.RandomState(21)
    sizes = [(12, 10), (10, 14), (9, 9), (16, 11), (10, 10)]
    arrays = {}
    imgs = [rng.randint(0, 256, (h, w, 3)).astype(np.uint8) for h, w in sizes]
    for suffix, labels in (("", [float(i) for i in range(5)]),
                           ("2", [[float(i), 10.0 * i] for i in range(5)])):
        rec = mx.recordio.MXIndexedRecordIO(os.path.join(OUT, "images%s.idx" % suffix),
                                            os.path.join(OUT, "images%s.rec" % suffix), "w")
        for i, img in enumerate(imgs):
            arrays["img%d" % i] = img
            rec.write_idx(i, mx.recordio.pack(mx.recordio.IRHeader(0, labels[i], i, 0),
                                              png_bytes(img)))
        rec.close()
    cases = {
        "center": dict(data_shape=(3, 8, 8), batch_size=2),
        "resize": dict(data_shape=(3, 8, 8), batch_size=2, resize=9, mean_r=10.0, mean_g=20.0,
                       mean_b=30.0, std_r=2.0, std_g=3.0, std_b=4.0, scale=0.5),
        "mirror": dict(data_shape=(3, 6, 7), batch_size=3, mirror=True, inter_method=2,
                       resize=8),
        "label2": dict(data_shape=(3, 8, 8), batch_size=5, label_width=2, round_batch=False,
                       path_imgrec="images2.rec", path_imgidx="images2.idx"),
        "noround": dict(data_shape=(3, 8, 8), batch_size=2, round_batch=False),
    }
    for name, kw in cases.items():
        kw = dict(kw)
        files = dict(path_imgrec=os.path.join(OUT, kw.pop("path_imgrec", "images.rec")),
                     path_imgidx=os.path.join(OUT, kw.pop("path_imgidx", "images.idx")))
        it = mx.io.ImageRecordIter(preprocess_threads=1, **files, **kw)
        for epoch in range(2):
            n = 0
            for j, b in enumerate(it):
                arrays["%s_e%d_b%d_x" % (name, epoch, j)] = b.data[0].asnumpy()
                arrays["%s_e%d_b%d_y" % (name, epoch, j)] = b.label[0].asnumpy()
                arrays["%s_e%d_b%d_pad" % (name, epoch, j)] = np.array(b.pad)
                n = j + 1
            arrays["%s_e%d_n" % (name, epoch)] = np.array(n)
            it.reset()
        arrays["%s_provide" % name] = np.array(json.dumps(
            [[d.name, list(d.shape)] for d in it.provide_data + it.provide_label]))
    with open(os.path.join(OUT, "imagerecorditer.json"), "w") as f:
        json.dump(cases, f, indent=0, sort_keys=True)
    np.savez_compressed(os.path.join(OUT, "imagerecorditer.npz"), **arrays)


IMAGEITER_CASES = {
    "seq": dict(batch_size=2, data_shape=(3, 8, 8), path_imgrec="images.rec"),
    "aug": dict(batch_size=2, data_shape=(3, 7, 6), path_imgrec="images.rec",
                path_imgidx="images.idx", shuffle=True, resize=9, rand_crop=True,
                rand_mirror=True, brightness=0.3, contrast=0.3, saturation=0.3, hue=0.2,
                pca_noise=0.1, rand_gray=0.3, mean=True, std=True, inter_method=1,
                last_batch_handle="roll_over"),
    "sized": dict(batch_size=3, data_shape=(3, 5, 5), path_imgrec="images.rec",
                  path_imgidx="images.idx", rand_crop=True, rand_resize=True, inter_method=1,
                  last_batch_handle="discard"),
    "list": dict(batch_size=2, data_shape=(3, 8, 8), label_width=2, imglist=True),
}


def make_imageiter():
    """MXNet's mx.image.ImageIter on images.rec and on the same images as PNG files."""
    import tempfile
    arrays = {}
    z = np.load(os.path.join(OUT, "imagerecorditer.npz"))
    with tempfile.TemporaryDirectory() as tmp:
        imglist = []
        for i in range(5):
            with open(os.path.join(tmp, "%d.png" % i), "wb") as f:
                f.write(png_bytes(z["img%d" % i]))
            imglist.append([float(i), 2.0 * i, "%d.png" % i])
        for name, kw in IMAGEITER_CASES.items():
            kw = dict(kw)
            for k in ("path_imgrec", "path_imgidx"):
                if k in kw:
                    kw[k] = os.path.join(OUT, kw[k])
            if kw.pop("imglist", False):
                kw.update(imglist=imglist, path_root=tmp)
            random.seed(4)
            np.random.seed(4)
            it = mx.image.ImageIter(**kw)
            for epoch in range(3):
                n = 0
                for j, b in enumerate(it):
                    key = "%s_e%d_b%d_" % (name, epoch, j)
                    arrays[key + "x"] = b.data[0].asnumpy()
                    arrays[key + "y"] = b.label[0].asnumpy()
                    arrays[key + "pad"] = np.array(b.pad)
                    n = j + 1
                arrays["%s_e%d_n" % (name, epoch)] = np.array(n)
                it.reset()
    np.savez_compressed(os.path.join(OUT, "imageiter.npz"), **arrays)


def make_csviter():
    rng = np.random.RandomState(5)
    np.savetxt(os.path.join(OUT, "csv_data.csv"), rng.randint(-50, 50, (7, 6)) / 4.0,
               delimiter=",", fmt="%g")
    np.savetxt(os.path.join(OUT, "csv_label.csv"), rng.randint(0, 9, (7, 2)), delimiter=",",
               fmt="%d")
    arrays = {}
    for rb in (0, 1):
        for with_label in (0, 1):
            kw = dict(label_csv=os.path.join(OUT, "csv_label.csv"), label_shape=(2,)) \
                if with_label else {}
            it = mx.io.CSVIter(data_csv=os.path.join(OUT, "csv_data.csv"), data_shape=(2, 3),
                               batch_size=3, round_batch=bool(rb), **kw)
            for epoch in range(3):
                n = 0
                for j, b in enumerate(it):
                    key = "rb%d_l%d_e%d_b%d_" % (rb, with_label, epoch, j)
                    arrays[key + "x"] = b.data[0].asnumpy()
                    arrays[key + "y"] = b.label[0].asnumpy()
                    arrays[key + "pad"] = np.array(b.pad)
                    n = j + 1
                arrays["rb%d_l%d_e%d_n" % (rb, with_label, epoch)] = np.array(n)
                it.reset()
    np.savez_compressed(os.path.join(OUT, "csviter.npz"), **arrays)


def make_im2rec():
    """MXNet's tools/im2rec.py (list mode, and pack mode with --pass-through, which need no
    OpenCV: a stub cv2 module satisfies its import) on a small image tree."""
    import shutil
    import subprocess
    import tempfile
    out = os.path.join(OUT, "im2rec")
    shutil.rmtree(out, ignore_errors=True)
    rng = np.random.RandomState(8)
    for rel in ("cat/1.png", "cat/2.png", "cat/3.PNG", "dog/a.png", "dog/b.jpg.txt",
                "dog/deep/c.png", "loose.png", "zebra/z.png"):
        os.makedirs(os.path.dirname(os.path.join(out, "images", rel)), exist_ok=True)
        with open(os.path.join(out, "images", rel), "wb") as f:
            f.write(png_bytes(rng.randint(0, 256, (3, 4, 3)).astype(np.uint8)))
    tool = os.path.join(os.path.dirname(mx.__file__), "tools", "im2rec.py")
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "cv2.py"), "w").close()
        env = dict(os.environ, PYTHONPATH=tmp)
        runs = [["--list", "--recursive", "all"], ["--list", "flat"],
                ["--list", "--recursive", "--train-ratio", "0.5", "--test-ratio", "0.25",
                 "split"], ["--list", "--recursive", "--no-shuffle", "--chunks", "2", "chunk"],
                ["--pass-through", "all"], ["--pass-through", "split"]]
        for r in runs:
            argv = r[:-1] + [os.path.join(out, r[-1]), os.path.join(out, "images")]
            subprocess.run([sys.executable, tool] + argv, env=env, check=True,
                           stdout=subprocess.DEVNULL)


def make_fashion_small(src="/usr/share/datasets/fashion-mnist"):
    out = os.path.join(OUT, "fashion_small")
    os.makedirs(out, exist_ok=True)
    for kind, n in (("train", 300), ("t10k", 200)):
        for part, hdr in (("images-idx3", 16), ("labels-idx1", 8)):
            name = "%s-%s-ubyte.gz" % (kind, part)
            with gzip.open(os.path.join(src, name)) as f:
                raw = f.read()
            dims = list(struct.unpack(">%dI" % ((hdr - 4) // 4), raw[4:hdr]))
            per = int(np.prod(dims[1:])) if len(dims) > 1 else 1
            dims[0] = n
            body = raw[hdr:hdr + n * per]
            head = raw[:4] + struct.pack(">%dI" % len(dims), *dims)
            with gzip.GzipFile(os.path.join(out, name), "wb", mtime=0) as g:
                g.write(head + body)
    # MXNet's view of the slice: the first samples of each split
    arrays = {}
    # MXNet checks the sha1 of the full files (and would download): the slice is ours
    mx.gluon.data.vision.datasets.download = lambda url, path, sha1_hash: os.path.join(
        path, url.rsplit("/", 1)[1])
    for train in (True, False):
        ds = mx.gluon.data.vision.FashionMNIST(root=out, train=train)
        arrays["%s_len" % train] = np.array(len(ds))
        arrays["%s_x" % train] = np.stack([ds[i][0].asnumpy() for i in range(0, len(ds), 37)])
        arrays["%s_y" % train] = np.array([ds[i][1] for i in range(0, len(ds), 37)])
        arrays["%s_ydtype" % train] = np.array(str(ds[0][1].dtype))
    # MXNet's MNISTIter (uncompressed files only) on the test slice, in order
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("images-idx3", "labels-idx1"):
            name = "t10k-%s-ubyte" % kind
            with gzip.open(os.path.join(out, name + ".gz")) as f, \
                    open(os.path.join(tmp, name), "wb") as g:
                g.write(f.read())
        it = mx.io.MNISTIter(image=os.path.join(tmp, "t10k-images-idx3-ubyte"),
                             label=os.path.join(tmp, "t10k-labels-idx1-ubyte"),
                             batch_size=64, shuffle=False, silent=True)
        batches = list(it)
        arrays["mnistiter_x"] = np.stack([b.data[0].asnumpy() for b in batches])
        arrays["mnistiter_y"] = np.stack([b.label[0].asnumpy() for b in batches])
    np.savez_compressed(os.path.join(OUT, "fashion_small.npz"), **arrays)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    what = sys.argv[1:] or ["records", "transforms", "ndarrayiter", "dataloader",
                            "fashion_small", "imagerecorditer", "imageiter", "csviter", "im2rec"]
    for w in what:
        globals()["make_" + w]()
        print("made", w)
