"""im2rec: image folders -> .lst image lists -> RecordIO .rec/.idx files, with MXNet's
tools/im2rec.py command line and output (the same list files and, with --pass-through,
byte-identical .rec/.idx files).

    python tools/im2rec.py --list --recursive data/train images/      # data/train.lst
    python tools/im2rec.py --resize 256 --quality 90 data/train images/  # data/train.rec/.idx

List mode labels the images of each sub-folder 0, 1, ... (--recursive; without it every
image of `root` gets label 0), shuffles with random.seed(100) unless --no-shuffle and can
split into chunks and train/val/test lists.  Pack mode turns every PREFIX*.lst into a
.rec/.idx pair: each image is read (OpenCV), optionally centre-cropped to a square and
resized (shorter edge), and re-encoded as JPEG/PNG -- or stored as is with --pass-through,
which needs neither OpenCV nor Pillow.  Encoding runs on --num-thread threads; records are
written in list order.
"""
import argparse
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from plait.gluon.data import image as mximage, recordio


def list_images(root, recursive, exts):
    """(index, path relative to root, label) of every image, in sorted walk order."""
    out = []
    if recursive:
        labels = {}
        for path, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for fname in sorted(files):
                fpath = os.path.join(path, fname)
                if os.path.isfile(fpath) and os.path.splitext(fname)[1].lower() in exts:
                    label = labels.setdefault(path, len(labels))
                    out.append((len(out), os.path.relpath(fpath, root), label))
        for folder, label in sorted(labels.items(), key=lambda kv: kv[1]):
            print(os.path.relpath(folder, root), label)
    else:
        for fname in sorted(os.listdir(root)):
            fpath = os.path.join(root, fname)
            if os.path.isfile(fpath) and os.path.splitext(fname)[1].lower() in exts:
                out.append((len(out), os.path.relpath(fpath, root), 0))
    return out


def write_list(path, items):
    """index<TAB>label(s) as %f<TAB>path lines (MXNet's .lst format), written atomically."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        for item in items:
            f.write("%d\t%s%s\n" % (item[0], "".join("%f\t" % v for v in item[2:]), item[1]))
    os.replace(tmp, path)


def make_lists(args):
    items = list_images(args.root, args.recursive, args.exts)
    if args.shuffle:
        random.seed(100)
        random.shuffle(items)
    chunk_size = (len(items) + args.chunks - 1) // args.chunks
    for c in range(args.chunks):
        chunk = items[c * chunk_size:(c + 1) * chunk_size]
        name = args.prefix + ("_%d" % c if args.chunks > 1 else "")
        n_train, n_test = int(chunk_size * args.train_ratio), int(chunk_size * args.test_ratio)
        if args.train_ratio == 1.0:
            write_list(name + ".lst", chunk)
            continue
        if args.test_ratio:
            write_list(name + "_test.lst", chunk[:n_test])
        if args.train_ratio + args.test_ratio < 1.0:
            write_list(name + "_val.lst", chunk[n_test + n_train:])
        write_list(name + "_train.lst", chunk[n_test:n_test + n_train])


def read_list(path):
    """[index, path, label, ...] items of a .lst file (malformed lines are reported and
    skipped, as MXNet's tool does)."""
    items = []
    with open(path) as f:
        for line in f:
            parts = [p.strip() for p in line.strip().split("\t")]
            if len(parts) < 3:
                print("lst should have at least three parts, skipping %s" % parts)
                continue
            try:
                items.append([int(parts[0]), parts[-1]] + [float(p) for p in parts[1:-1]])
            except ValueError as e:
                print("cannot parse %s: %s" % (parts, e))
    return items


def encode(args, item):
    """The packed record of one list item, or None (with a message) when it fails."""
    path = os.path.join(args.root, item[1])
    label = item[2:] if (len(item) > 3 and args.pack_label) else item[2]
    header = recordio.IRHeader(0, label, item[0], 0)
    try:
        if args.pass_through:
            with open(path, "rb") as f:
                return recordio.pack(header, f.read())
        cv2 = mximage._cv2()
        if cv2 is None:
            raise RuntimeError("re-encoding needs OpenCV (opencv-python-headless); "
                               "or use --pass-through")
        img = cv2.imread(path, args.color)
        if img is None:
            raise RuntimeError("OpenCV cannot read it")
        h, w = img.shape[:2]
        if args.center_crop:
            m = abs(h - w) // 2
            img = img[m:m + w] if h > w else img[:, m:m + h]
            h, w = img.shape[:2]
        if args.resize:
            size = (args.resize, h * args.resize // w) if h > w else \
                (w * args.resize // h, args.resize)
            img = cv2.resize(img, size)
        return recordio.pack_img(header, np.asarray(img), quality=args.quality,
                                 img_fmt=args.encoding)
    except Exception as e:  # noqa: BLE001  (one bad image must not stop the whole pack)
        print("skipping %s: %s" % (path, e))
        return None


def pack_list(args, lst, working_dir):
    base = os.path.splitext(os.path.basename(lst))[0]
    rec = recordio.MXIndexedRecordIO(os.path.join(working_dir, base + ".idx"),
                                     os.path.join(working_dir, base + ".rec"), "w")
    items = read_list(lst)
    with ThreadPoolExecutor(max(1, args.num_thread)) as pool:
        for n, (item, s) in enumerate(zip(items, pool.map(lambda it: encode(args, it),
                                                           items))):
            if s is not None:
                rec.write_idx(item[0], s)
            if n % 1000 == 0:
                print("count:", n)
    rec.close()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("prefix", help="prefix of the .lst and .rec files")
    p.add_argument("root", help="folder holding the images")
    g = p.add_argument_group("making image lists")
    g.add_argument("--list", action="store_true", help="make .lst files instead of .rec")
    g.add_argument("--exts", nargs="+", default=[".jpeg", ".jpg", ".png"])
    g.add_argument("--chunks", type=int, default=1)
    g.add_argument("--train-ratio", type=float, default=1.0)
    g.add_argument("--test-ratio", type=float, default=0)
    g.add_argument("--recursive", action="store_true",
                   help="walk sub-folders; each folder is one label")
    g.add_argument("--no-shuffle", dest="shuffle", action="store_false")
    g = p.add_argument_group("making record files")
    g.add_argument("--pass-through", action="store_true", help="store the files unchanged")
    g.add_argument("--resize", type=int, default=0, help="shorter edge size (0: keep)")
    g.add_argument("--center-crop", action="store_true", help="crop to a centred square")
    g.add_argument("--quality", type=int, default=95, help="JPEG quality or PNG compression")
    g.add_argument("--num-thread", type=int, default=1)
    g.add_argument("--color", type=int, default=1, choices=[-1, 0, 1],
                   help="OpenCV imread flag: 1 colour, 0 grey, -1 unchanged")
    g.add_argument("--encoding", default=".jpg", choices=[".jpg", ".png"])
    g.add_argument("--pack-label", action="store_true", help="store every label of the list")
    args = p.parse_args(argv)
    args.prefix, args.root = os.path.abspath(args.prefix), os.path.abspath(args.root)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        make_lists(args)
        return 0
    working_dir = args.prefix if os.path.isdir(args.prefix) else os.path.dirname(args.prefix)
    lists = sorted(os.path.join(working_dir, f) for f in os.listdir(working_dir)
                   if os.path.join(working_dir, f).startswith(args.prefix) and f.endswith(".lst"))
    for lst in lists:
        print("Creating .rec file from", lst, "in", working_dir)
        pack_list(args, lst, working_dir)
    if not lists:
        print("no .lst file with prefix %s" % args.prefix)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
