"""mx.recordio: MXNet's RecordIO files (.rec) and their index (.idx), byte for byte.

A record on disk is: uint32 magic 0xced7230a, uint32 lrec = cflag << 29 | length, the
payload, zero padding to 4 bytes.  Records must be shorter than 2^29 bytes.  When the
magic number itself occurs in the payload at a 4-byte aligned offset, the writer splits
the record there and drops those 4 bytes (cflag 1 = first part, 2 = middle, 3 = last;
0 = whole record); the reader joins the parts back with the magic in between.  That is
dmlc-core's rule, so files written here are identical to MXNet's.

The index file holds one "key<TAB>byte offset" line per record.  Reads use positional
reads (os.pread), so a reader may be shared with forked DataLoader workers.  Writers write
to a temporary file that replaces the target on close(): no half-written files.
"""
import numbers
import os
import struct
from collections import namedtuple

import numpy as np

from ...core.base import PlaitError

_MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", _MAGIC)
_LEN_MASK = (1 << 29) - 1


def _encode(buf):
    """The on-disk bytes of one record."""
    data = bytes(buf)
    n = len(data)
    if n >= 1 << 29:
        raise PlaitError("a record must be shorter than 2^29 bytes, got %d" % n, arg="buf",
                         op="MXRecordIO.write")
    parts, start = [], 0
    pos = data.find(_MAGIC_BYTES)
    while pos != -1 and pos + 4 <= (n // 4) * 4:
        if pos % 4 == 0:
            parts.append((1 if start == 0 else 2, data[start:pos]))
            start = pos + 4
            pos = data.find(_MAGIC_BYTES, pos + 4)
        else:
            pos = data.find(_MAGIC_BYTES, pos + 1)
    parts.append((3 if start else 0, data[start:]))
    out = []
    for cflag, chunk in parts:
        out.append(struct.pack("<II", _MAGIC, cflag << 29 | len(chunk)))
        out.append(chunk)
    out.append(b"\0" * (-n % 4))
    return b"".join(out)


class MXRecordIO:
    """Sequential reader/writer of a .rec file: flag 'r' reads, 'w' writes."""

    def __init__(self, uri, flag):
        self.uri, self.flag = str(uri), flag
        if flag not in ("r", "w"):
            raise PlaitError("flag must be 'r' or 'w', got %r" % (flag,), arg="flag",
                             op=type(self).__name__)
        self.is_open = False
        self.open()

    def open(self):
        if self.flag == "w":
            self._tmp = "%s.tmp-%d" % (self.uri, os.getpid())
            self._fh = open(self._tmp, "wb")
            self.writable = True
        else:
            try:
                self._fh = open(self.uri, "rb")
            except OSError as e:
                raise PlaitError("cannot open %s: %s" % (self.uri, e.strerror), arg="uri",
                                 op=type(self).__name__) from None
            self._size = os.fstat(self._fh.fileno()).st_size
            self.writable = False
        self._pos = 0
        self.is_open = True

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        raise TypeError("%s cannot be pickled; open the file again in the other process"
                        % type(self).__name__)

    def close(self):
        """Close the file; a writer's file appears under its name only now."""
        if not getattr(self, "is_open", False):
            return
        self.is_open = False
        self._fh.close()
        if self.writable:
            os.replace(self._tmp, self.uri)

    def reset(self):
        """Back to the first record (a writer starts the file over)."""
        if self.writable:
            self.close()
        if not self.is_open:
            self.open()
        self._pos = 0

    def tell(self):
        """Byte offset of the next record."""
        return self._pos

    def write(self, buf):
        if not self.writable or not self.is_open:
            raise PlaitError("%s is not open for writing" % self.uri, op="MXRecordIO.write")
        enc = _encode(buf)
        self._fh.write(enc)
        self._pos += len(enc)

    def _read_at(self, pos):
        """(record bytes, offset of the next record) of the record at `pos`, or (None, pos)
        at the end of the file."""
        chunks, fd = [], self._fh.fileno()
        while True:
            if pos >= self._size and not chunks:
                return None, pos
            head = os.pread(fd, 8, pos)
            if len(head) < 8:
                raise PlaitError("%s: truncated record header at byte %d" % (self.uri, pos),
                                 op="MXRecordIO.read")
            magic, lrec = struct.unpack("<II", head)
            if magic != _MAGIC:
                raise PlaitError("%s: bad magic %#010x at byte %d (not a RecordIO file, or a "
                                 "wrong offset)" % (self.uri, magic, pos), op="MXRecordIO.read")
            cflag, n = lrec >> 29, lrec & _LEN_MASK
            data = os.pread(fd, n, pos + 8)
            if len(data) < n:
                raise PlaitError("%s: record at byte %d claims %d bytes, %d left" % (
                    self.uri, pos, n, len(data)), op="MXRecordIO.read")
            pos += 8 + n + (-n % 4)
            chunks.append(data)
            if cflag in (0, 3):
                return _MAGIC_BYTES.join(chunks), pos
            if cflag not in (1, 2) or (cflag == 1) != (len(chunks) == 1):
                raise PlaitError("%s: bad continuation flag %d at byte %d" % (
                    self.uri, cflag, pos), op="MXRecordIO.read")

    def read(self):
        """The next record as bytes, or None at the end."""
        if self.writable or not self.is_open:
            raise PlaitError("%s is not open for reading" % self.uri, op="MXRecordIO.read")
        rec, self._pos = self._read_at(self._pos)
        return rec


class MXIndexedRecordIO(MXRecordIO):
    """A .rec file with its .idx index: random access by key (int keys by default)."""

    def __init__(self, idx_path, uri, flag, key_type=int):
        self.idx_path, self.key_type = str(idx_path), key_type
        self.idx, self.keys = {}, []
        self.fidx = None
        super().__init__(uri, flag)

    def open(self):
        super().open()
        self.idx, self.keys = {}, []
        if self.writable:
            self._idx_tmp = "%s.tmp-%d" % (self.idx_path, os.getpid())
            self.fidx = open(self._idx_tmp, "w")
            return
        try:
            with open(self.idx_path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise PlaitError("cannot open index %s: %s" % (self.idx_path, e.strerror),
                             arg="idx_path", op="MXIndexedRecordIO") from None
        for ln, line in enumerate(lines, 1):
            fields = line.strip().split("\t")
            if not line.strip():
                continue
            try:
                key, pos = self.key_type(fields[0]), int(fields[1])
            except (ValueError, IndexError):
                raise PlaitError("%s line %d: expected 'key<TAB>offset', got %r" % (
                    self.idx_path, ln, line), op="MXIndexedRecordIO") from None
            self.idx[key] = pos
            self.keys.append(key)

    def close(self):
        if not getattr(self, "is_open", False):
            return
        super().close()
        if self.fidx is not None:
            self.fidx.close()
            self.fidx = None
            os.replace(self._idx_tmp, self.idx_path)

    def seek(self, idx):
        """Make record `idx` the next one read()."""
        if self.writable:
            raise PlaitError("seek needs a reader", op="MXIndexedRecordIO.seek")
        try:
            self._pos = self.idx[idx]
        except KeyError:
            raise PlaitError("no record with key %r in %s" % (idx, self.idx_path), arg="idx",
                             op="MXIndexedRecordIO.seek") from None

    def read_idx(self, idx):
        """The record with key `idx`."""
        try:
            pos = self.idx[idx]
        except KeyError:
            raise PlaitError("no record with key %r in %s" % (idx, self.idx_path), arg="idx",
                             op="MXIndexedRecordIO.read_idx") from None
        return self._read_at(pos)[0]

    def write_idx(self, idx, buf):
        """Append a record under key `idx`."""
        key = self.key_type(idx)
        pos = self.tell()
        self.write(buf)
        self.fidx.write("%s\t%d\n" % (str(key), pos))
        self.idx[key] = pos
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
IRHeader.__doc__ = """Image record header: flag (number of float labels, 0 = scalar label),
label, id, id2."""
_IR_FORMAT = "IfQQ"
_IR_SIZE = struct.calcsize(_IR_FORMAT)


def pack(header, s):
    """Header + payload bytes; a non-scalar label is stored as float32 values before the
    payload (flag = their count)."""
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        header = header._replace(flag=0)
    else:
        label = np.asarray(header.label, dtype=np.float32)
        header = header._replace(flag=label.size, label=0)
        s = label.tobytes() + bytes(s)
    return struct.pack(_IR_FORMAT, *header) + bytes(s)


def unpack(s):
    """(IRHeader, payload bytes) of a packed record."""
    if len(s) < _IR_SIZE:
        raise PlaitError("record of %d bytes is shorter than the %d-byte header" % (
            len(s), _IR_SIZE), arg="s", op="recordio.unpack")
    header = IRHeader(*struct.unpack(_IR_FORMAT, s[:_IR_SIZE]))
    s = s[_IR_SIZE:]
    if header.flag > 0:
        if len(s) < header.flag * 4:
            raise PlaitError("header says %d float labels, only %d bytes follow" % (
                header.flag, len(s)), arg="s", op="recordio.unpack")
        header = header._replace(label=np.frombuffer(s, np.float32, header.flag))
        s = s[header.flag * 4:]
    return header, s


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """Pack an image (a NumPy HWC array in OpenCV's BGR order, as MXNet) encoded as JPEG/PNG."""
    from . import image
    arr = np.asarray(img)
    rgb = arr[:, :, ::-1] if arr.ndim == 3 and arr.shape[2] == 3 else arr
    return pack(header, image.imencode(rgb, img_fmt, quality))


def unpack_img(s, iscolor=-1):
    """(IRHeader, BGR NumPy image) of a packed image record (iscolor as OpenCV's flag)."""
    from . import image
    header, s = unpack(s)
    cv2 = image._cv2()
    if cv2 is not None:
        img = cv2.imdecode(np.frombuffer(s, dtype=np.uint8), iscolor)
        if img is None:
            raise PlaitError("cannot decode the image payload", op="recordio.unpack_img")
        return header, img
    img = image.imdecode(s, flag=0 if iscolor == 0 else 1, to_rgb=False).asnumpy()
    return header, img[:, :, 0] if iscolor == 0 else img
