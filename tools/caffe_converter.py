"""Convert a Caffe model (.prototxt + .caffemodel) into a plait/MXNet checkpoint.

    python tools/caffe_converter.py deploy.prototxt weights.caffemodel PREFIX

writes PREFIX-symbol.json and PREFIX-0000.params (load them with
mx.gluon.SymbolBlock.imports or mx.sym.load + mx.nd.load) and prints the parameter count
of every layer.  Caffe is not needed; nothing in the input files is executed.
Bad input ends with one error line (naming file, layer and what was expected) and exit code 2.
"""
import argparse
import os
import sys
import time


def _shape(text):
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected a shape like 1,3,224,224, got %r" % text)
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError("expected positive dims like 1,3,224,224, got %r" % text)
    return dims


def _floats(text):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected numbers like 104,117,123, got %r" % text)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="caffe_converter.py",
        description="Convert a Caffe model (deploy .prototxt + trained .caffemodel) into a "
                    "plait/MXNet checkpoint PREFIX-symbol.json + PREFIX-0000.params, without "
                    "Caffe.  Only TEST-phase layers are kept; parameters are named "
                    "<layer>_weight/_bias (BatchNorm: _gamma/_beta/_moving_mean/_moving_var).")
    ap.add_argument("prototxt", help="network definition (.prototxt, current or V1 format)")
    ap.add_argument("caffemodel", help="trained weights (binary .caffemodel)")
    ap.add_argument("prefix", help="output prefix: writes PREFIX-symbol.json and "
                                   "PREFIX-%%04d.params")
    ap.add_argument("--input-shape", type=_shape, metavar="N,C,H,W",
                    help="override the input shape of the prototxt (first input)")
    ap.add_argument("--mean-file", metavar="FILE.binaryproto",
                    help="fold this mean image in front of the net: (data - mean) * scale")
    ap.add_argument("--mean-values", type=_floats, metavar="B,G,R",
                    help="per-channel mean values to fold in (Caffe's channel order)")
    ap.add_argument("--scale", type=float, help="input scale, applied after the mean")
    ap.add_argument("--swap-rgb", action="store_true",
                    help="reverse the input channels of the first convolution(s), so the "
                         "converted model takes RGB where the Caffe model took BGR "
                         "(default: off, the model keeps Caffe's BGR input)")
    ap.add_argument("--outputs", metavar="BLOB,BLOB",
                    help="convert only what these blobs need (default: the net's outputs); "
                         "lets nets with unsupported layers (SSD) convert their supported part")
    ap.add_argument("--epoch", type=int, default=0, help="epoch number in the .params name")
    ap.add_argument("--quiet", action="store_true", help="do not print the per-layer report")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))))
    import plait as mx
    from plait.core.caffe import convert, save_checkpoint
    if args.mean_file and args.mean_values:
        print("error: give --mean-file or --mean-values, not both", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        res = convert(args.prototxt, args.caffemodel, input_shape=args.input_shape,
                      mean=args.mean_values, mean_file=args.mean_file, scale=args.scale,
                      swap_rgb=args.swap_rgb,
                      outputs=args.outputs.split(",") if args.outputs else None)
        save_checkpoint(args.prefix, res, args.epoch)
    except (mx.MXNetError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    if not args.quiet:
        print(res.report())
    print("wrote %s-symbol.json and %s-%04d.params in %.2f s"
          % (args.prefix, args.prefix, args.epoch, time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
