"""Vision datasets read from local files: MNIST, FashionMNIST, CIFAR10/100, image folders
and image RecordIO files.  Nothing here touches the network: when files are missing the
error says which files to put where."""
import gzip
import os
import warnings

import numpy as np

from ....core.base import PlaitError
from ....ndarray import NDArray
from ..dataset import Dataset, RecordFileDataset

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def data_dir():
    """MXNet's data directory: $MXNET_HOME, else ~/.mxnet."""
    return os.environ.get("MXNET_HOME", os.path.join(os.path.expanduser("~"), ".mxnet"))


class _LocalDataset(Dataset):
    """Base of the array-backed datasets: uint8 HWC images and int32 labels in memory.

    Samples are NDArray views of one read-only NumPy array (no copy per sample)."""

    def __init__(self, root, transform):
        self._transform = transform
        self._root = os.path.expanduser(root)
        images, self._label = self._get_data()
        self._images = images
        self._data = NDArray(images)

    def __getitem__(self, idx):
        img = NDArray(self._images[idx])
        if self._transform is not None:
            return self._transform(img, self._label[idx])
        return img, self._label[idx]

    def __len__(self):
        return len(self._label)

    def _fast_batch(self, indices):
        if self._transform is not None:
            return None
        return [NDArray(self._images[indices]), NDArray(self._label[indices])]

    def _get_data(self):
        raise NotImplementedError


def _read_maybe_gz(path):
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":
            try:
                return gzip.GzipFile(fileobj=f).read()
            except (OSError, EOFError) as e:
                raise PlaitError("%s: corrupt gzip data (%s)" % (path, e), op="MNIST") from None
        return f.read()


def read_idx(path, expect_magic, op):
    """An IDX file (MNIST's format: big-endian magic, dims, then uint8 data) as an array,
    checking the magic number and that the size matches the header."""
    buf = _read_maybe_gz(path)
    ndim = expect_magic & 0xFF
    if len(buf) < 4 + 4 * ndim:
        raise PlaitError("%s: too short for an IDX header (%d bytes)" % (path, len(buf)), op=op)
    magic = int.from_bytes(buf[:4], "big")
    if magic != expect_magic:
        raise PlaitError("%s: IDX magic number is %#010x, expected %#010x (wrong or corrupt file)"
                         % (path, magic, expect_magic), op=op)
    dims = tuple(int(d) for d in np.frombuffer(buf, ">u4", ndim, 4))
    body = np.frombuffer(buf, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise PlaitError("%s: header says %s = %d values, the file holds %d" % (
            path, dims, int(np.prod(dims)), body.size), op=op)
    return body.reshape(dims)


class MNIST(_LocalDataset):
    """MNIST handwritten digits: (28, 28, 1) uint8 NDArray images and int32 labels.

    root holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-
    ubyte.gz and t10k-labels-idx1-ubyte.gz (each also accepted uncompressed, without .gz).
    transform(data, label) -> sample is applied on access."""
    _name = "mnist"
    _fallback_dirs = ()

    def __init__(self, root=None, train=True, transform=None):
        self._train = train
        if root is None:
            root = os.path.join(data_dir(), "datasets", self._name)
        super().__init__(root, transform)

    def _files(self):
        kind = "train" if self._train else "t10k"
        return ("%s-images-idx3-ubyte" % kind, "%s-labels-idx1-ubyte" % kind)

    def _find(self, folder, name):
        for cand in (name + ".gz", name):
            p = os.path.join(folder, cand)
            if os.path.isfile(p):
                return p
        return None

    def _get_data(self):
        op = type(self).__name__
        names = self._files()
        for folder in (self._root,) + tuple(self._fallback_dirs):
            paths = [self._find(folder, n) for n in names]
            if all(paths):
                break
        else:
            raise PlaitError(
                "files not found: put %s (or the same without .gz) into %s%s; plait never "
                "downloads" % (" and ".join(n + ".gz" for n in names), self._root,
                               "" if not self._fallback_dirs else " (also looked in %s)"
                               % ", ".join(self._fallback_dirs)), arg="root", op=op)
        images = read_idx(paths[0], 0x803, op)
        labels = read_idx(paths[1], 0x801, op)
        if len(images) != len(labels):
            raise PlaitError("%s holds %d images but %s holds %d labels" % (
                paths[0], len(images), paths[1], len(labels)), op=op)
        self.files = paths
        return images.reshape(images.shape + (1,)), labels.astype(np.int32)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): MNIST's format and file names, 10 clothing classes.

    Looks in `root` (default ~/.mxnet/datasets/fashion-mnist), then in Debian's
    /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist)."""
    _name = "fashion-mnist"
    _fallback_dirs = (DEBIAN_FASHION_MNIST,)


class CIFAR10(_LocalDataset):
    """CIFAR-10 from its binary version: (32, 32, 3) uint8 images, int32 labels.

    root holds cifar-10-batches-bin/ (or its files directly): data_batch_1..5.bin and
    test_batch.bin."""
    _subdir = "cifar-10-batches-bin"
    _train_files = tuple("data_batch_%d.bin" % i for i in range(1, 6))
    _test_files = ("test_batch.bin",)
    _label_bytes = 1

    def __init__(self, root=None, train=True, transform=None):
        self._train = train
        if root is None:
            root = os.path.join(data_dir(), "datasets", type(self).__name__.lower())
        super().__init__(root, transform)

    def _label_column(self):
        return 0

    def _get_data(self):
        op = type(self).__name__
        names = self._train_files if self._train else self._test_files
        for folder in (self._root, os.path.join(self._root, self._subdir)):
            paths = [os.path.join(folder, n) for n in names]
            if all(os.path.isfile(p) for p in paths):
                break
        else:
            raise PlaitError("files not found: put %s into %s (or into %s); plait never "
                             "downloads" % (", ".join(names), self._root,
                                            os.path.join(self._root, self._subdir)),
                             arg="root", op=op)
        rec = 3072 + self._label_bytes
        data, label = [], []
        for p in paths:
            raw = np.fromfile(p, dtype=np.uint8)
            if raw.size % rec:
                raise PlaitError("%s: %d bytes is not a whole number of %d-byte records"
                                 % (p, raw.size, rec), op=op)
            raw = raw.reshape(-1, rec)
            data.append(raw[:, self._label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            label.append(raw[:, self._label_column()].astype(np.int32))
        self.files = paths
        return np.ascontiguousarray(np.concatenate(data)), np.concatenate(label)


class CIFAR100(CIFAR10):
    """CIFAR-100 binary version (train.bin, test.bin in cifar-100-binary/); fine_label
    picks the 100 fine classes instead of the 20 coarse ones."""
    _subdir = "cifar-100-binary"
    _train_files = ("train.bin",)
    _test_files = ("test.bin",)
    _label_bytes = 2

    def __init__(self, root=None, fine_label=False, train=True, transform=None):
        self._fine_label = bool(fine_label)
        super().__init__(root, train, transform)

    def _label_column(self):
        return int(self._fine_label)


class ImageRecordDataset(RecordFileDataset):
    """Images packed in a RecordIO file (tools like im2rec): samples are (HWC uint8 image,
    label); flag=0 decodes grayscale, 1 colour."""

    def __init__(self, filename, flag=1, transform=None):
        super().__init__(filename)
        self._flag, self._transform = flag, transform

    def __getitem__(self, idx):
        from .. import image, recordio
        header, img = recordio.unpack(super().__getitem__(idx))
        img = image.imdecode(img, self._flag)
        if self._transform is not None:
            return self._transform(img, header.label)
        return img, header.label


class ImageFolderDataset(Dataset):
    """Images in class folders: root/<class name>/<image>.jpg|.jpeg|.png.  Labels number
    the sorted class folders (`synsets`); `items` lists (path, label)."""

    def __init__(self, root, flag=1, transform=None):
        self._root = os.path.expanduser(root)
        self._flag, self._transform = flag, transform
        self._exts = [".jpg", ".jpeg", ".png"]
        if not os.path.isdir(self._root):
            raise PlaitError("%s is not a directory" % self._root, arg="root",
                             op="ImageFolderDataset")
        self._list_images(self._root)

    def _list_images(self, root):
        self.synsets, self.items = [], []
        for folder in sorted(os.listdir(root)):
            path = os.path.join(root, folder)
            if not os.path.isdir(path):
                warnings.warn("Ignoring %s, which is not a directory." % path, stacklevel=3)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(os.listdir(path)):
                filename = os.path.join(path, filename)
                ext = os.path.splitext(filename)[1]
                if ext.lower() not in self._exts:
                    warnings.warn("Ignoring %s of type %s. Only support %s" % (
                        filename, ext, ", ".join(self._exts)))
                    continue
                self.items.append((filename, label))

    def __getitem__(self, idx):
        from .. import image
        img = image.imread(self.items[idx][0], self._flag)
        label = self.items[idx][1]
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self.items)
