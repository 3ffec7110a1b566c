"""Read a TensorFlow Lite model (.tflite) without TensorFlow, and refuse a hostile one clearly.

A .tflite file is a FlatBuffer (file identifier ``TFL3`` at bytes 4-7) holding operator codes,
subgraphs (tensors and operators) and buffers (the constant data). This module reads subgraph 0
with the generated ``tflite`` schema classes for scalar fields, and its own bounds-checked
accessors for every offset, vector, string and sub-table, so that a corrupt or crafted file gives a
:class:`ModelFileError` that says what is wrong, never a wrong answer or a traceback:

* not a FlatBuffer / wrong file identifier, zero-length or truncated files;
* offsets, vectors, strings and buffer data (inline or external ``offset``/``size``) outside the file;
* absurd tensor shapes (negative dimensions, more than 2**31 elements, constant data that does not
  match the shape and type);
* operator, opcode, tensor and buffer indices out of range; a tensor written by two operators;
* an operator that consumes a tensor produced later (a cycle, or operators out of execution order).

Constant tensor data is returned as numpy views of the file bytes (no copy).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import tflite

from submission_tools.errors import InputError

FILE_IDENTIFIER = b"TFL3"
WHAT_A_TFLITE_IS = ("a .tflite file is a TensorFlow Lite FlatBuffer (file identifier 'TFL3' at bytes 4-7) "
                    "as written by the TFLite converter")
MAX_ELEMENTS = 2 ** 31  # a tensor with more elements than this is absurd for any TFLite model
MAX_RANK = 16
MAX_OPERATORS = 1_000_000


class ModelFileError(InputError):
    """A model file is missing, unreadable, or not a well-formed .tflite."""


def _names(enum_class) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items()
            if not name.startswith("_") and isinstance(value, int)}


OPERATOR_NAMES = _names(tflite.BuiltinOperator)
TYPE_NAMES = _names(tflite.TensorType)
OPTIONS_NAMES = _names(tflite.BuiltinOptions)
ACTIVATION_NAMES = _names(tflite.ActivationFunctionType)
PADDING_NAMES = _names(tflite.Padding)

# TFLite tensor type name -> numpy dtype (little endian, as in the file). Types missing here
# (STRING, RESOURCE, VARIANT, INT4 packed nibbles) are returned as raw bytes.
NUMPY_DTYPES = {
    "FLOAT32": "<f4", "FLOAT16": "<f2", "FLOAT64": "<f8", "INT8": "i1", "UINT8": "u1",
    "INT16": "<i2", "UINT16": "<u2", "INT32": "<i4", "UINT32": "<u4", "INT64": "<i8",
    "UINT64": "<u8", "BOOL": "u1", "COMPLEX64": "<c8", "COMPLEX128": "<c16", "BFLOAT16": "<u2",
}

# Options read from an operator's builtin options table when the options class has them.
_OPTION_FIELDS = {
    "Padding": "padding", "StrideW": "stride_w", "StrideH": "stride_h",
    "DilationWFactor": "dilation_w", "DilationHFactor": "dilation_h",
    "DepthMultiplier": "depth_multiplier", "FilterWidth": "filter_w", "FilterHeight": "filter_h",
    "KeepNumDims": "keep_num_dims", "WeightsFormat": "weights_format", "Beta": "beta",
}


class _Corrupt(Exception):
    """Internal: a structural problem found while walking the FlatBuffer."""


_U16 = struct.Struct("<H")
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class _Table:
    pos: int
    vtable: int
    vtable_size: int
    object_size: int


class _FlatBuffer:
    """Bounds-checked access to the raw FlatBuffer; every position it returns lies inside the file."""

    def __init__(self, data: bytes):
        self.data = data
        self.size = len(data)

    def _need(self, pos: int, length: int, what: str) -> None:
        if pos < 0 or length < 0 or pos + length > self.size:
            raise _Corrupt(f"{what} at bytes {pos}-{pos + length} lies outside the file "
                           f"({self.size} bytes): the file is truncated or corrupt")

    def u16(self, pos: int, what: str) -> int:
        self._need(pos, 2, what)
        return _U16.unpack_from(self.data, pos)[0]

    def u32(self, pos: int, what: str) -> int:
        self._need(pos, 4, what)
        return _U32.unpack_from(self.data, pos)[0]

    def i32(self, pos: int, what: str) -> int:
        self._need(pos, 4, what)
        return _I32.unpack_from(self.data, pos)[0]

    def table(self, pos: int, what: str) -> _Table:
        self._need(pos, 4, what)
        vtable = pos - self.i32(pos, what)
        if vtable < 0 or vtable + 4 > self.size:
            raise _Corrupt(f"{what}: its field table (vtable) at byte {vtable} lies outside the file "
                           f"({self.size} bytes): the file is truncated or corrupt")
        vtable_size = self.u16(vtable, f"{what} vtable")
        object_size = self.u16(vtable + 2, f"{what} vtable")
        if vtable_size < 4 or vtable_size % 2:
            raise _Corrupt(f"{what}: malformed field table (vtable size {vtable_size})")
        self._need(vtable, vtable_size, f"{what} vtable")
        if object_size < 4:
            raise _Corrupt(f"{what}: malformed table (size {object_size})")
        self._need(pos, object_size, what)
        for slot in range(4, vtable_size, 2):
            offset = self.u16(vtable + slot, f"{what} vtable")
            if offset and offset >= object_size:
                raise _Corrupt(f"{what}: field {(slot - 4) // 2} at offset {offset} lies outside "
                               f"its table ({object_size} bytes)")
        return _Table(pos, vtable, vtable_size, object_size)

    def field(self, table: _Table, slot: int) -> int:
        """Absolute position of a field, or 0 when the field is absent (default value)."""
        if slot >= table.vtable_size:
            return 0
        offset = self.u16(table.vtable + slot, "vtable")
        return table.pos + offset if offset else 0

    def ref(self, table: _Table, slot: int, what: str) -> Optional[int]:
        """Target of an offset field (sub-table, vector or string), or None when absent."""
        pos = self.field(table, slot)
        if not pos:
            return None
        target = pos + self.u32(pos, what)
        self._need(target, 4, what)
        return target

    def vector(self, table: _Table, slot: int, item_size: int, what: str) -> tuple[int, int]:
        """(first element position, length) of a vector field; (0, 0) when absent."""
        target = self.ref(table, slot, what)
        if target is None:
            return 0, 0
        length = self.u32(target, what)
        start = target + 4
        if start + length * item_size > self.size:
            raise _Corrupt(f"{what}: a vector of {length} items of {item_size} bytes at byte {start} "
                           f"runs past the end of the file ({self.size} bytes): the file is truncated "
                           f"or corrupt")
        return start, length

    def ints(self, table: _Table, slot: int, what: str) -> np.ndarray:
        start, length = self.vector(table, slot, 4, what)
        return np.frombuffer(self.data, dtype="<i4", count=length, offset=start) if length else \
            np.zeros(0, dtype="<i4")

    def tables(self, table: _Table, slot: int, what: str) -> list[_Table]:
        start, length = self.vector(table, slot, 4, what)
        out = []
        for j in range(length):
            pos = start + 4 * j
            out.append(self.table(pos + self.u32(pos, f"{what}[{j}]"), f"{what}[{j}]"))
        return out

    def string(self, table: _Table, slot: int, what: str) -> Optional[str]:
        start, length = self.vector(table, slot, 1, what)
        if not start:
            return None
        return self.data[start:start + length].decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Quantization:
    """Affine quantization of a tensor: real = scale * (q - zero_point) along `dimension`."""

    scales: np.ndarray  # float32, one per channel (or one)
    zero_points: np.ndarray  # int64
    dimension: int
    scales_offset: int = 0  # byte offset of the first scale in the file (0 when absent)
    zero_points_offset: int = 0

    @property
    def per_channel(self) -> bool:
        return self.scales.size > 1

    def to_dict(self) -> dict:
        return {"scales": int(self.scales.size), "dimension": self.dimension,
                "per_channel": self.per_channel}


@dataclass
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # TFLite type name: FLOAT32, INT8, INT32, ...
    buffer: int
    is_constant: bool  # its buffer holds data
    is_variable: bool
    quantization: Optional[Quantization]
    data_offset: int = 0  # byte range of the constant data inside the file
    data_length: int = 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def is_quantized(self) -> bool:
        return self.quantization is not None and self.quantization.scales.size > 0


@dataclass
class OperatorInfo:
    index: int
    op: str  # builtin name (CONV_2D ...) or CUSTOM:<code>
    inputs: tuple[int, ...]  # tensor indices; -1 is an omitted optional input
    outputs: tuple[int, ...]
    activation: Optional[str]  # fused activation (NONE, RELU, ...) when the op has one
    options: dict = field(default_factory=dict)
    producers: tuple[Optional[int], ...] = ()  # per input: the op that writes it (None: graph input/constant)


@dataclass
class TFLiteModel:
    name: str  # the path or label it was read from
    data: bytes
    version: int
    description: Optional[str]
    tensors: list[TensorInfo]
    operators: list[OperatorInfo]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    subgraphs: int
    producer_of: dict[int, int]  # tensor index -> op index that writes it

    def tensor(self, index: int) -> TensorInfo:
        return self.tensors[index]

    def tensor_data(self, index: int) -> Optional[np.ndarray]:
        """The constant data of a tensor as a read-only numpy view of the file, or None."""
        tensor = self.tensors[index]
        if not tensor.is_constant:
            return None
        dtype = NUMPY_DTYPES.get(tensor.dtype)
        if dtype is None:
            return np.frombuffer(self.data, dtype="u1", count=tensor.data_length, offset=tensor.data_offset)
        count = tensor.data_length // np.dtype(dtype).itemsize
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=tensor.data_offset)
        return array.reshape(tensor.shape) if tensor.shape else array.reshape(())

    def consumers_of(self, tensor_index: int) -> list[int]:
        return [op.index for op in self.operators if tensor_index in op.inputs]

    @property
    def op_types(self) -> list[str]:
        return [op.op for op in self.operators]


def read_model(path: Path | str) -> TFLiteModel:
    """Read and validate a .tflite file; ModelFileError (exit 2) for anything malformed."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such file (a .tflite model was expected)")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a .tflite model file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return read_model_bytes(data, str(path))


def read_model_bytes(data: bytes, name: str = "<model>") -> TFLiteModel:
    data = bytes(data)
    _check_header(data, name)
    try:
        return _parse(_FlatBuffer(data), name)
    except _Corrupt as exc:
        raise ModelFileError(f"{name}: not a well-formed .tflite: {exc}; {WHAT_A_TFLITE_IS}") from None
    except (struct.error, ValueError, TypeError, IndexError, OverflowError, UnicodeError) as exc:
        raise ModelFileError(f"{name}: not a well-formed .tflite: corrupt FlatBuffer ({exc}); "
                             f"{WHAT_A_TFLITE_IS}") from None


def _check_header(data: bytes, name: str) -> None:
    if not data:
        raise ModelFileError(f"{name}: empty file (0 bytes); {WHAT_A_TFLITE_IS}")
    if len(data) < 8:
        raise ModelFileError(f"{name}: only {len(data)} bytes, too short to be a FlatBuffer; {WHAT_A_TFLITE_IS}")
    identifier = data[4:8]
    if identifier != FILE_IDENTIFIER:
        hint = _what_it_looks_like(data)
        raise ModelFileError(f"{name}: not a TensorFlow Lite model: bytes 4-7 are {identifier!r}, "
                             f"not the identifier b'TFL3'{hint}; {WHAT_A_TFLITE_IS}")
    root = _U32.unpack_from(data, 0)[0]
    if root + 4 > len(data) or root < 8:
        raise ModelFileError(f"{name}: not a well-formed .tflite: the root table offset {root} lies "
                             f"outside the file ({len(data)} bytes): the file is truncated or corrupt")


def _what_it_looks_like(data: bytes) -> str:
    if data.startswith(b"\x89HDF"):
        return " (it is an HDF5 file, e.g. a Keras .h5 model: convert it to .tflite)"
    if data.startswith(b"PK\x03\x04"):
        return " (it is a zip archive, e.g. a .keras model or a zipped folder)"
    if data.startswith(b"\x08") and any(word in data[:64].lower() for word in (b"onnx", b"pytorch")):
        return " (it looks like an ONNX model: only .tflite models are compared)"
    head = data[:64]
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return " (it is a text file)"
    return ""


def _parse(fb: _FlatBuffer, name: str) -> TFLiteModel:
    data = fb.data
    root = fb.table(_U32.unpack_from(data, 0)[0], "the model table")
    model = tflite.Model()
    model.Init(data, root.pos)
    version = model.Version()
    description = fb.string(root, 10, "model description")

    opcodes = []
    for j, t in enumerate(fb.tables(root, 6, "operator_codes")):
        code = tflite.OperatorCode()
        code.Init(data, t.pos)
        builtin = max(int(code.DeprecatedBuiltinCode()), int(code.BuiltinCode()))
        op_name = OPERATOR_NAMES.get(builtin, f"BUILTIN_{builtin}")
        if op_name == "CUSTOM":
            op_name = f"CUSTOM:{fb.string(t, 6, f'operator_codes[{j}] custom code') or '?'}"
        opcodes.append(op_name)

    buffers = [_buffer_range(fb, t, j) for j, t in enumerate(fb.tables(root, 12, "buffers"))]

    subgraphs = fb.tables(root, 8, "subgraphs")
    if not subgraphs:
        raise _Corrupt("the model has no subgraph")
    sub = subgraphs[0]

    tensors = [_tensor(fb, t, j, buffers) for j, t in enumerate(fb.tables(sub, 4, "tensors"))]
    n_tensors = len(tensors)

    def check_index(index: int, what: str, optional: bool = False) -> int:
        if optional and index == -1:
            return index
        if not 0 <= index < n_tensors:
            raise _Corrupt(f"{what} refers to tensor {index}, but the subgraph has {n_tensors} tensors")
        return index

    graph_inputs = tuple(check_index(int(i), "subgraph input") for i in fb.ints(sub, 6, "subgraph inputs"))
    graph_outputs = tuple(check_index(int(i), "subgraph output") for i in fb.ints(sub, 8, "subgraph outputs"))

    op_tables = fb.tables(sub, 10, "operators")
    if len(op_tables) > MAX_OPERATORS:
        raise _Corrupt(f"{len(op_tables)} operators is absurd")
    operators = []
    for j, t in enumerate(op_tables):
        op = tflite.Operator()
        op.Init(data, t.pos)
        opcode_index = int(op.OpcodeIndex())
        if not 0 <= opcode_index < len(opcodes):
            raise _Corrupt(f"operator {j} uses opcode {opcode_index}, but the model has {len(opcodes)} "
                           f"operator codes")
        inputs = tuple(check_index(int(i), f"operator {j} ({opcodes[opcode_index]}) input", optional=True)
                       for i in fb.ints(t, 6, f"operator {j} inputs"))
        outputs = tuple(check_index(int(i), f"operator {j} ({opcodes[opcode_index]}) output")
                        for i in fb.ints(t, 8, f"operator {j} outputs"))
        activation, options = _options(fb, op, t, j)
        operators.append(OperatorInfo(j, opcodes[opcode_index], inputs, outputs, activation, options))

    producer_of = _connect(operators, tensors, graph_inputs)
    return TFLiteModel(name=name, data=data, version=int(version), description=description,
                       tensors=tensors, operators=operators, inputs=graph_inputs, outputs=graph_outputs,
                       subgraphs=len(subgraphs), producer_of=producer_of)


def _buffer_range(fb: _FlatBuffer, t: _Table, j: int) -> tuple[int, int]:
    """(offset, length) of a buffer's data in the file: inline vector, or external offset/size."""
    start, length = fb.vector(t, 4, 1, f"buffer {j} data")
    if length:
        return start, length
    buffer = tflite.Buffer()
    buffer.Init(fb.data, t.pos)
    offset, size = int(buffer.Offset()), int(buffer.Size())
    if offset > 1:  # 0 and 1 mean "no external data" in the TFLite schema
        if offset + size > fb.size:
            raise _Corrupt(f"buffer {j} points at bytes {offset}-{offset + size}, past the end of the "
                           f"file ({fb.size} bytes): the file is truncated or corrupt")
        return offset, size
    return 0, 0


def _tensor(fb: _FlatBuffer, t: _Table, j: int, buffers: list[tuple[int, int]]) -> TensorInfo:
    tensor = tflite.Tensor()
    tensor.Init(fb.data, t.pos)
    name = fb.string(t, 10, f"tensor {j} name") or f"tensor_{j}"
    what = f"tensor {j} ({_label(name)!r})"
    shape_array = fb.ints(t, 4, f"{what} shape")
    if shape_array.size > MAX_RANK:
        raise _Corrupt(f"{what} has rank {shape_array.size}; TFLite tensors have at most {MAX_RANK} dimensions")
    shape = tuple(int(d) for d in shape_array)
    if any(d < 0 for d in shape):
        raise _Corrupt(f"{what} has a negative dimension in its shape {shape}")
    elements = 1
    for d in shape:
        elements *= d
    if elements > MAX_ELEMENTS:
        raise _Corrupt(f"{what} has shape {shape}: {elements} elements is absurd (more than 2**31)")
    type_code = int(tensor.Type())
    dtype = TYPE_NAMES.get(type_code)
    if dtype is None:
        raise _Corrupt(f"{what} has unknown tensor type {type_code}")
    buffer_index = int(tensor.Buffer())
    if not 0 <= buffer_index < len(buffers):
        raise _Corrupt(f"{what} uses buffer {buffer_index}, but the model has {len(buffers)} buffers")
    offset, length = buffers[buffer_index]
    if length:
        expected = _bytes_needed(dtype, elements)
        if expected is not None and expected != length:
            raise _Corrupt(f"{what} has shape {shape} of {dtype}, which needs {expected} bytes, but its "
                           f"buffer {buffer_index} holds {length} bytes")
    quantization = None
    q_target = fb.ref(t, 12, f"{what} quantization")
    if q_target is not None:
        qt = fb.table(q_target, f"{what} quantization")
        params = tflite.QuantizationParameters()
        params.Init(fb.data, qt.pos)
        s_start, s_len = fb.vector(qt, 8, 4, f"{what} scales")
        z_start, z_len = fb.vector(qt, 10, 8, f"{what} zero points")
        scales = np.frombuffer(fb.data, "<f4", s_len, s_start) if s_len else np.zeros(0, "<f4")
        zero_points = np.frombuffer(fb.data, "<i8", z_len, z_start) if z_len else np.zeros(0, "<i8")
        dimension = int(params.QuantizedDimension())
        if s_len > 1:
            if not 0 <= dimension < len(shape):
                raise _Corrupt(f"{what} is quantized along dimension {dimension}, but has shape {shape}")
            if s_len != shape[dimension]:
                raise _Corrupt(f"{what} has {s_len} scales along dimension {dimension} of shape {shape}")
        if z_len not in (0, 1, s_len):
            raise _Corrupt(f"{what} has {s_len} scales but {z_len} zero points")
        quantization = Quantization(scales, zero_points, dimension, s_start, z_start)
    return TensorInfo(index=j, name=name, shape=shape, dtype=dtype, buffer=buffer_index,
                      is_constant=length > 0, is_variable=bool(tensor.IsVariable()),
                      quantization=quantization, data_offset=offset, data_length=length)


def _label(name: str, limit: int = 60) -> str:
    """A tensor name short enough for a message (converter names can be hundreds of characters)."""
    return name if len(name) <= limit else f"{name[:limit // 2 - 1]}…{name[-(limit // 2 - 1):]}"


def _bytes_needed(dtype: str, elements: int) -> Optional[int]:
    if dtype == "INT4":
        return (elements + 1) // 2
    numpy_dtype = NUMPY_DTYPES.get(dtype)
    return None if numpy_dtype is None else elements * np.dtype(numpy_dtype).itemsize


def _options(fb: _FlatBuffer, op, t: _Table, j: int) -> tuple[Optional[str], dict]:
    options_type = int(op.BuiltinOptionsType())
    target = fb.ref(t, 12, f"operator {j} options")
    if not options_type or target is None:
        return None, {}
    class_name = OPTIONS_NAMES.get(options_type)
    options_class = getattr(tflite, class_name, None) if class_name else None
    if options_class is None:
        return None, {}
    fb.table(target, f"operator {j} options")
    options = options_class()
    options.Init(fb.data, target)
    activation = None
    if hasattr(options, "FusedActivationFunction"):
        code = int(options.FusedActivationFunction())
        activation = ACTIVATION_NAMES.get(code, f"ACTIVATION_{code}")
    values = {}
    for method, key in _OPTION_FIELDS.items():
        if hasattr(options, method):
            value = getattr(options, method)()
            if key == "padding":
                value = PADDING_NAMES.get(int(value), str(value))
            elif isinstance(value, float):
                value = float(value)
            else:
                value = int(value)
            values[key] = value
    return activation, values


def _connect(operators: list[OperatorInfo], tensors: list[TensorInfo],
             graph_inputs: tuple[int, ...]) -> dict[int, int]:
    """Record each input's producer op; refuse double writers and anything out of execution order."""
    producer_of: dict[int, int] = {}
    for op in operators:
        for t in op.outputs:
            if t in producer_of:
                raise _Corrupt(f"tensor {t} ({_label(tensors[t].name)!r}) is written by operator {producer_of[t]} "
                               f"and by operator {op.index}")
            producer_of[t] = op.index
    for op in operators:
        producers = []
        for t in op.inputs:
            producer = producer_of.get(t) if t >= 0 else None
            if producer is not None and producer >= op.index:
                cycle = _find_cycle(operators, producer_of, op.index, producer)
                if cycle is not None:
                    path = " -> ".join(f"op {i} ({operators[i].op})" for i in cycle)
                    raise _Corrupt(f"the operator graph has a cycle: {path}; a model's operators must "
                                   f"form an acyclic graph listed in execution order")
                raise _Corrupt(f"operator {op.index} ({op.op}) consumes tensor {t} ({_label(tensors[t].name)!r}) "
                               f"before operator {producer} ({operators[producer].op}) produces it; "
                               f"operators must be listed in execution order")
            producers.append(producer)
        op.producers = tuple(producers)
    return producer_of


def _find_cycle(operators: list[OperatorInfo], producer_of: dict[int, int], start: int,
                producer: int) -> Optional[list[int]]:
    """A path start -> ... -> producer -> start through the data flow, if `producer` depends on `start`."""
    if producer == start:
        return [start, start]
    consumers: dict[int, list[int]] = {}
    for op in operators:
        for t in op.inputs:
            if t >= 0 and t in producer_of:
                consumers.setdefault(producer_of[t], []).append(op.index)
    parent = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        for nxt in consumers.get(current, []):
            if nxt in parent:
                continue
            parent[nxt] = current
            if nxt == producer:
                path = [nxt]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return list(reversed(path)) + [start]
            queue.append(nxt)
    return None
