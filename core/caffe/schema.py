"""Protobuf message classes for Caffe files, built at run time from schema_text.SCHEMA.

protoc is not available (and generated *_pb2 modules are tied to a protobuf version), so
the compact proto2 text in schema_text.py is read by a small line parser into a
FileDescriptorProto and handed to the protobuf runtime.  The classes are built once, on first
use: `import plait` never imports protobuf.
"""
import re

from ..base import PlaitError
from .schema_text import SCHEMA

_PACKAGE = "caffe"
_SCALARS = {
    "double": 1, "float": 2, "int64": 3, "uint64": 4, "int32": 5, "bool": 8,
    "string": 9, "bytes": 12, "uint32": 13,
}
_LABELS = {"optional": 1, "required": 2, "repeated": 3}
_FIELD = re.compile(r"(optional|repeated|required) ([\w.]+) (\w+) = (\d+)(?: \[(.*)\])?;$")
_ENUM = re.compile(r"enum (\w+) \{ (.*) \}$")
_classes = None


def _parse(text):
    """SCHEMA text -> (top-level enums {name: [(value, number)]},
    messages [(name, nested enums, fields)])."""
    enums, messages, cur = {}, [], None
    text = re.sub(r"enum \w+ \{[^}]*\}", lambda m: " ".join(m.group(0).split()), text)
    for line in text.strip().splitlines():
        line = line.strip()
        m = _ENUM.match(line)
        if m:
            vals = [(k, int(v)) for k, v in (p.split("=") for p in m.group(2).split())]
            (cur[1] if cur else enums)[m.group(1)] = vals
        elif line.startswith("message "):
            cur = (line.split()[1], {}, [])
            messages.append(cur)
        elif line == "}":
            cur = None
        else:
            m = _FIELD.match(line)
            if m is None or cur is None:
                raise PlaitError("bad line in plait's Caffe schema: %r" % line)
            opts = dict(o.split("=", 1) for o in (m.group(5) or "").split(",") if o)
            cur[2].append((m.group(1), m.group(2), m.group(3), int(m.group(4)), opts))
    return enums, messages


def _file_proto():
    from google.protobuf import descriptor_pb2
    enums, messages = _parse(SCHEMA)
    fdp = descriptor_pb2.FileDescriptorProto(name="plait_caffe.proto", package=_PACKAGE,
                                             syntax="proto2")

    def add_enum(container, name, values):
        e = container.add(name=name)
        for k, v in values:
            e.value.add(name=k, number=v)

    for name, values in enums.items():
        add_enum(fdp.enum_type, name, values)
    known_msgs = {m[0] for m in messages}
    for name, nested, fields in messages:
        d = fdp.message_type.add(name=name)
        for en, values in nested.items():
            add_enum(d.enum_type, en, values)
        for label, typ, fname, num, opts in fields:
            f = d.field.add(name=fname, number=num, label=_LABELS[label])
            if typ in _SCALARS:
                f.type = _SCALARS[typ]
            elif typ in nested:
                f.type, f.type_name = 14, ".%s.%s.%s" % (_PACKAGE, name, typ)
            elif typ in enums:
                f.type, f.type_name = 14, ".%s.%s" % (_PACKAGE, typ)
            elif typ in known_msgs:
                f.type, f.type_name = 11, ".%s.%s" % (_PACKAGE, typ)
            else:
                raise PlaitError("plait's Caffe schema: field %s.%s has unknown type %s"
                                 % (name, fname, typ))
            if "default" in opts:
                f.default_value = opts["default"].strip("'\"")
            if opts.get("packed") == "true":
                f.options.packed = True
    return fdp


def classes():
    """{message name: class} for the Caffe schema (NetParameter, BlobProto, ...)."""
    global _classes
    if _classes is None:
        from google.protobuf import descriptor_pool, message_factory
        pool = descriptor_pool.DescriptorPool()
        fd = pool.Add(_file_proto())
        fd = pool.FindFileByName("plait_caffe.proto")
        _classes = {name: message_factory.GetMessageClass(desc)
                    for name, desc in fd.message_types_by_name.items()}
    return _classes


def message(name):
    """A new empty message of the Caffe schema, e.g. message('NetParameter')."""
    return classes()[name]()
