"""Reading .tflite files without TensorFlow: the reference models, and hostile files refused clearly.

Hostile files are made by patching bytes of a reference model (truncation, offsets, shapes,
indices) or built with the flatbuffers builder (`build_tflite`, a tiny writer of the TFLite schema
that test_model_cli.py reuses).
"""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import tflite

from helpers.shared import shared_path
from submission_tools.errors import InputError
from submission_tools.models.tflite_reader import ModelFileError, read_model, read_model_bytes

TRAINING = ("data", "mlperf_tiny", "benchmark", "training")
REFERENCE_FILES = {
    "kws_int8": ("keyword_spotting", "kws_ref_model.tflite", 13),
    "kws_float": ("keyword_spotting", "kws_ref_model_float32.tflite", 13),
    "vww_int8": ("visual_wake_words", "vww_96_int8.tflite", 31),
    "vww_float": ("visual_wake_words", "vww_96_float.tflite", 31),
    "ic_int8": ("image_classification", "pretrainedResnet_quant.tflite", 16),
    "ic_float": ("image_classification", "pretrainedResnet.tflite", 16),
    "ic2_int8": ("image_classification", "pretrainedResnet_large_int8.tflite", 16),
    "ic2_float": ("image_classification", "pretrainedResnet_large_float.tflite", 16),
    "ad_int8": ("anomaly_detection", "ad01_int8.tflite", 10),
    "ad_float": ("anomaly_detection", "ad01_fp32.tflite", 10),
    "sww_float": ("streaming_wakeword", "str_ww_ref_model.tflite", 11),
}


def reference_file(key: str) -> Path:
    folder, name, _ = REFERENCE_FILES[key]
    return shared_path(*TRAINING, folder, "trained_models", name)


# ------------------------------------------------------------------------------------------
# A tiny TFLite writer (flatbuffers builder + the generated schema functions)

ADD, CONV_2D = tflite.BuiltinOperator.ADD, tflite.BuiltinOperator.CONV_2D


def build_tflite(tensors: list[dict], operators: list[dict], inputs: list[int], outputs: list[int],
                 buffers: list = (), opcodes: list[int] = (ADD,), identifier: bytes = b"TFL3") -> bytes:
    """tensors: {"shape", "type" (TensorType), "buffer", "name", "scale"?}; operators: {"opcode",
    "inputs", "outputs"}; buffers: bytes for inline data, or (offset, size) for external data
    (buffer 0, the empty sentinel, is added in front)."""
    b = flatbuffers.Builder(1024)
    buffer_offsets = []
    for data in [b""] + list(buffers):
        if isinstance(data, tuple):
            tflite.BufferStart(b)
            tflite.BufferAddOffset(b, data[0])
            tflite.BufferAddSize(b, data[1])
            buffer_offsets.append(tflite.BufferEnd(b))
            continue
        vector = b.CreateNumpyVector(np.frombuffer(data, dtype=np.uint8)) if data else None
        tflite.BufferStart(b)
        if vector is not None:
            tflite.BufferAddData(b, vector)
        buffer_offsets.append(tflite.BufferEnd(b))
    tensor_offsets = []
    for i, spec in enumerate(tensors):
        name = b.CreateString(spec.get("name", f"t{i}"))
        shape = b.CreateNumpyVector(np.asarray(spec["shape"], dtype=np.int32))
        quant = None
        if "scale" in spec:
            scales = b.CreateNumpyVector(np.asarray([spec["scale"]], dtype=np.float32))
            zeros = b.CreateNumpyVector(np.asarray([0], dtype=np.int64))
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, scales)
            tflite.QuantizationParametersAddZeroPoint(b, zeros)
            quant = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, spec.get("type", tflite.TensorType.FLOAT32))
        tflite.TensorAddBuffer(b, spec.get("buffer", 0))
        tflite.TensorAddName(b, name)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        tensor_offsets.append(tflite.TensorEnd(b))
    op_offsets = []
    for spec in operators:
        ins = b.CreateNumpyVector(np.asarray(spec["inputs"], dtype=np.int32))
        outs = b.CreateNumpyVector(np.asarray(spec["outputs"], dtype=np.int32))
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, spec.get("opcode", 0))
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        op_offsets.append(tflite.OperatorEnd(b))

    def table_vector(offsets):
        b.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            b.PrependUOffsetTRelative(offset)
        return b.EndVector()

    tensors_vec, ops_vec = table_vector(tensor_offsets), table_vector(op_offsets)
    in_vec = b.CreateNumpyVector(np.asarray(inputs, dtype=np.int32))
    out_vec = b.CreateNumpyVector(np.asarray(outputs, dtype=np.int32))
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_vec)
    tflite.SubGraphAddInputs(b, in_vec)
    tflite.SubGraphAddOutputs(b, out_vec)
    tflite.SubGraphAddOperators(b, ops_vec)
    subgraph = tflite.SubGraphEnd(b)
    code_offsets = []
    for code in opcodes:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        tflite.OperatorCodeAddVersion(b, 1)
        code_offsets.append(tflite.OperatorCodeEnd(b))
    codes_vec, subgraphs_vec = table_vector(code_offsets), table_vector([subgraph])
    buffers_vec = table_vector(buffer_offsets)
    description = b.CreateString("built by test_tflite_reader")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_vec)
    tflite.ModelAddSubgraphs(b, subgraphs_vec)
    tflite.ModelAddDescription(b, description)
    tflite.ModelAddBuffers(b, buffers_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=identifier)
    return bytes(b.Output())


def two_adds(first_inputs=(0, 1), second_inputs=(2, 1)) -> bytes:
    """x(0), y(1) -> ADD -> t2 -> ADD -> t3; the inputs of each ADD can be rewired."""
    tensors = [{"shape": [1, 4]} for _ in range(4)]
    operators = [{"inputs": list(first_inputs), "outputs": [2]}, {"inputs": list(second_inputs), "outputs": [3]}]
    return build_tflite(tensors, operators, inputs=[0, 1], outputs=[3])


def cyclic_model() -> bytes:
    """op 0 consumes op 1's output, which depends on op 0: a cycle."""
    return two_adds(first_inputs=(0, 3), second_inputs=(2, 1))


# ------------------------------------------------------------------------------------------
# Byte offsets inside a trusted file, for patching (read with the plain generated classes)


def _root(data: bytes):
    return tflite.Model.GetRootAs(data, 0)


def shape_vector_pos(data: bytes, tensor: int) -> int:
    t = _root(data).Subgraphs(0).Tensors(tensor)
    return t._tab.Vector(t._tab.Offset(4))


def op_inputs_pos(data: bytes, op: int) -> int:
    o = _root(data).Subgraphs(0).Operators(op)
    return o._tab.Vector(o._tab.Offset(6))


def buffer_data_field_pos(data: bytes, buffer: int) -> int:
    buf = _root(data).Buffers(buffer)
    return buf._tab.Pos + buf._tab.Offset(4)


def patched(data: bytes, pos: int, fmt: str, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, pos, *values)
    return bytes(out)


def weight_tensor_of_first_op(data: bytes) -> int:
    return int(_root(data).Subgraphs(0).Operators(0).InputsAsNumpy()[1])


# ------------------------------------------------------------------------------------------
# The reference models


@pytest.mark.parametrize("key", sorted(REFERENCE_FILES))
def test_reference_models_read(key):
    path = reference_file(key)
    model = read_model(path)
    assert len(model.operators) == REFERENCE_FILES[key][2] and model.subgraphs == 1
    assert set(model.op_types) <= {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD",
                                   "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"}
    first = model.operators[0]
    assert first.activation in ("RELU", "NONE") and first.producers[0] is None
    # every op input is a graph input, a constant, or the output of an earlier op
    for op in model.operators:
        for t, producer in zip(op.inputs, op.producers):
            if t < 0:
                continue
            tensor = model.tensors[t]
            assert (producer is not None and producer < op.index) or tensor.is_constant or t in model.inputs
    # weights and biases are numpy views of the file: no copy, not writeable
    weights = model.tensor_data(first.inputs[1])
    assert weights.shape == model.tensors[first.inputs[1]].shape
    assert not weights.flags.writeable and not weights.flags.owndata
    assert model.tensor_data(first.inputs[0]) is None  # an activation has no data


def test_int8_reference_quantization():
    model = read_model(reference_file("vww_int8"))
    conv, dw = model.operators[0], model.operators[1]
    w = model.tensors[conv.inputs[1]]
    assert w.dtype == "INT8" and w.is_constant and w.quantization.per_channel
    assert w.quantization.dimension == 0 and w.quantization.scales.size == w.shape[0] == 8
    assert model.tensors[dw.inputs[1]].quantization.dimension == 3
    bias = model.tensors[conv.inputs[2]]
    assert bias.dtype == "INT32" and model.tensor_data(bias.index).dtype == np.int32
    assert model.tensors[conv.inputs[0]].quantization.scales.size == 1
    assert conv.options["stride_w"] == 2 and conv.options["padding"] == "SAME"
    assert model.operators[1].producers[0] == 0


def test_hybrid_kws_float_has_int8_conv_weights():
    model = read_model(reference_file("kws_float"))
    conv_w = model.tensors[model.operators[0].inputs[1]]
    dw_w = model.tensors[model.operators[1].inputs[1]]
    assert conv_w.dtype == "INT8" and conv_w.quantization.scales.size == 1
    assert dw_w.dtype == "FLOAT32" and model.tensor_data(dw_w.index).dtype == np.float32


def test_reading_is_fast():
    paths = [reference_file(k) for k in REFERENCE_FILES]
    start = time.perf_counter()
    for path in paths:
        read_model(path)
    assert time.perf_counter() - start < 1.0
    # a model of several MB (an 8 MB constant) reads in well under a second
    big = np.ones(2 * 1024 * 1024, dtype=np.float32)
    data = build_tflite([{"shape": [1, big.size]}, {"shape": [1, big.size], "buffer": 1}, {"shape": [1, big.size]}],
                        [{"inputs": [0, 1], "outputs": [2]}], inputs=[0], outputs=[2], buffers=[big.tobytes()])
    assert len(data) > 8 * 1024 * 1024
    start = time.perf_counter()
    model = read_model_bytes(data, "big.tflite")
    assert model.tensor_data(1).sum() == big.size
    assert time.perf_counter() - start < 0.5


def test_built_model_reads():
    model = read_model_bytes(two_adds(), "adds.tflite")
    assert model.op_types == ["ADD", "ADD"] and model.operators[1].producers == (0, None)
    assert model.producer_of == {2: 0, 3: 1} and model.consumers_of(2) == [1]


# ------------------------------------------------------------------------------------------
# Hostile files


def refused(data: bytes, *fragments: str) -> str:
    with pytest.raises(ModelFileError) as info:
        read_model_bytes(data, "bad.tflite")
    message = str(info.value)
    assert message.startswith("bad.tflite: ")
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_model_file_error_is_an_input_error():
    assert issubclass(ModelFileError, InputError) and ModelFileError.exit_code == 2


def test_zero_length():
    refused(b"", "empty file (0 bytes)", "TFL3")


@pytest.mark.parametrize("data, hint", [
    (b"hello world, this is not a model\n" * 4, "text file"),
    (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
    (b"PK\x03\x04" + bytes(100), "zip archive"),
    (bytes(range(256)) * 4, ""),
])
def test_not_a_flatbuffer(data, hint):
    refused(data, "not a TensorFlow Lite model", "b'TFL3'", hint)


def test_too_short():
    refused(b"\x10\x00\x00", "too short")


def test_wrong_identifier_in_a_real_model():
    data = reference_file("kws_int8").read_bytes()
    refused(data[:4] + b"TFL2" + data[8:], "bytes 4-7 are b'TFL2'")


@pytest.mark.parametrize("key", ["kws_int8", "vww_float", "ad_int8"])
def test_truncated_at_several_points(key):
    data = reference_file(key).read_bytes()
    n = len(data)
    for cut in (8, 12, 64, 1000, n // 4, n // 2, 3 * n // 4, n - 100, n - 1):
        message = refused(data[:cut])
        assert "truncated or corrupt" in message or "outside" in message


def test_root_offset_outside():
    data = reference_file("kws_int8").read_bytes()
    refused(patched(data, 0, "<I", len(data) + 10), "root table offset")


def test_buffer_data_past_the_end():
    data = reference_file("kws_int8").read_bytes()
    model = read_model_bytes(data)
    buffer = model.tensors[weight_tensor_of_first_op(data)].buffer
    pos = buffer_data_field_pos(data, buffer)
    refused(patched(data, pos, "<I", len(data)), f"buffer {buffer} data", "outside the file")
    # a vector length that runs past the end
    length_pos = model.tensors[weight_tensor_of_first_op(data)].data_offset - 4
    refused(patched(data, length_pos, "<I", 0x7FFFFFF0), f"buffer {buffer} data", "runs past the end")


def test_external_buffer_past_the_end():
    tensors = [{"shape": [1, 4]}, {"shape": [1, 4], "buffer": 1}, {"shape": [1, 4]}]
    ops = [{"inputs": [0, 1], "outputs": [2]}]
    good = build_tflite(tensors, ops, [0], [2], buffers=[(64, 16)])
    assert read_model_bytes(good).tensors[1].data_offset == 64
    refused(build_tflite(tensors, ops, [0], [2], buffers=[(10 ** 9, 16)]), "buffer 1 points at bytes", "past the end")


def test_negative_dimension():
    data = reference_file("ic_int8").read_bytes()
    w = weight_tensor_of_first_op(data)
    refused(patched(data, shape_vector_pos(data, w), "<i", -16), "negative dimension", "(-16, 3, 3, 3)")


def test_absurd_element_count():
    data = reference_file("ic_int8").read_bytes()
    w = weight_tensor_of_first_op(data)
    pos = shape_vector_pos(data, w)
    refused(patched(data, pos, "<ii", 1 << 20, 1 << 20), "elements is absurd", "more than 2**31")


def test_shape_larger_than_its_buffer():
    data = reference_file("ic_int8").read_bytes()
    w = weight_tensor_of_first_op(data)
    refused(patched(data, shape_vector_pos(data, w), "<i", 17), "(17, 3, 3, 3) of INT8", "needs 459 bytes",
            "holds 432 bytes")


def test_tensor_index_out_of_range():
    data = reference_file("kws_int8").read_bytes()
    refused(patched(data, op_inputs_pos(data, 2), "<i", 9999), "operator 2 (CONV_2D) input refers to tensor 9999",
            "35 tensors")


def test_opcode_index_out_of_range():
    tensors = [{"shape": [1, 4]} for _ in range(4)]
    ops = [{"inputs": [0, 1], "outputs": [2]}, {"opcode": 1, "inputs": [2, 1], "outputs": [3]}]
    data = build_tflite(tensors, ops, [0, 1], [3], opcodes=[ADD, ADD])
    o = _root(data).Subgraphs(0).Operators(1)
    pos = o._tab.Pos + o._tab.Offset(4)
    with pytest.raises(ModelFileError, match="uses opcode 7, but the model has 2 operator codes"):
        read_model_bytes(patched(data, pos, "<I", 7))


def test_vtable_outside_the_file():
    data = reference_file("kws_int8").read_bytes()
    t = _root(data).Subgraphs(0).Tensors(3)
    refused(patched(data, t._tab.Pos, "<i", 0x7FFFFFFF), "tensors[3]", "vtable", "outside the file")


def test_cycle():
    message = refused(cyclic_model(), "cycle", "op 0 (ADD) -> op 1 (ADD) -> op 0 (ADD)")
    assert "acyclic" in message


def test_self_loop():
    refused(two_adds(first_inputs=(0, 2)), "cycle", "op 0 (ADD) -> op 0 (ADD)")


def test_out_of_execution_order():
    # op 0 reads t3, written later by op 1, which does not depend on op 0: not a cycle, still invalid
    tensors = [{"shape": [1, 4]} for _ in range(4)]
    ops = [{"inputs": [0, 3], "outputs": [2]}, {"inputs": [1, 1], "outputs": [3]}]
    refused(build_tflite(tensors, ops, [0, 1], [2]), "before operator 1 (ADD) produces it", "execution order")


def test_tensor_written_twice():
    tensors = [{"shape": [1, 4]} for _ in range(3)]
    ops = [{"inputs": [0, 1], "outputs": [2]}, {"inputs": [0, 1], "outputs": [2]}]
    refused(build_tflite(tensors, ops, [0, 1], [2]), "written by operator 0 and by operator 1")


def test_no_subgraph_and_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        read_model(tmp_path / "absent.tflite")
    with pytest.raises(ModelFileError, match="is a folder"):
        read_model(tmp_path)


def test_random_corruption_never_escapes():
    """Random byte changes in a reference model: either it still reads, or ModelFileError."""
    data = reference_file("kws_int8").read_bytes()
    rng = random.Random(7)
    refusals = 0
    for _ in range(400):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            # most of the structure lives in the first and last kilobytes
            region = rng.choice([(0, 2048), (len(data) - 4096, len(data)), (0, len(data))])
            mutated[rng.randrange(*region)] = rng.randrange(256)
        try:
            read_model_bytes(bytes(mutated))
        except ModelFileError:
            refusals += 1
    assert refusals > 20
