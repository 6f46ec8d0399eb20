import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # tests/opcheck.py and other helpers

# pytest's importlib mode names tests/onnx/* modules "onnx.<file>" and would register a stand-in
# "onnx" package that hides the real one: import the real package first when it is installed.
try:
    import onnx  # noqa: F401,E402
except ImportError:
    pass
