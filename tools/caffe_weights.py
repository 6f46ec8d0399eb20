"""Write a .caffemodel with seeded random weights for a prototxt (tests, examples, benchmarks).

    python tools/caffe_weights.py deploy.prototxt out.caffemodel [--seed 0] [--input-shape ..]
"""
import argparse
import os
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prototxt")
    ap.add_argument("caffemodel")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input-shape", help="N,C,H,W override of the first input")
    ap.add_argument("--outputs", help="BLOB,BLOB: only the layers these blobs need")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))))
    import plait as mx
    from plait.core.caffe.weights import random_caffemodel
    shape = tuple(int(d) for d in args.input_shape.split(",")) if args.input_shape else None
    try:
        blobs = random_caffemodel(args.prototxt, args.caffemodel, args.seed, shape,
                                  args.outputs.split(",") if args.outputs else None)
    except (mx.MXNetError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    n = sum(a.size for v in blobs.values() for a in v)
    print("wrote %s: %d layers with blobs, %d values" % (args.caffemodel, len(blobs), n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
