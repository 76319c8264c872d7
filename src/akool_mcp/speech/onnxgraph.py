"""Expose an ONNX graph's internal tensor as an extra output, editing the model's protobuf bytes.

The neural voices compute per-phoneme durations inside their graphs but do not output them.
onnxruntime runs only a graph's declared outputs, so we declare one more: an ``output`` entry
(GraphProto field 12) appended to the ``graph`` (ModelProto field 7). Protobuf merges repeated
fields in order, so appending is all it takes, and it needs no ``onnx`` package (a 15 MB
dependency for forty lines of wire format).
"""

from __future__ import annotations

_GRAPH = 7  # ModelProto.graph
_GRAPH_OUTPUT = 12  # GraphProto.output
_LENGTH_DELIMITED = 2
INT64 = 7  # TensorProto.DataType.INT64


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_varint(buffer: bytes, index: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if index >= len(buffer):
            raise ValueError("truncated protobuf varint")
        byte = buffer[index]
        index += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, index


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(payload)) + payload


def _value_info(name: str, elem_type: int) -> bytes:
    # ValueInfoProto{name: 1, type: 2 = TypeProto{tensor_type: 1 = Tensor{elem_type: 1 (varint)}}}
    tensor = b"\x08" + _varint(elem_type)
    return _field(1, name.encode()) + _field(2, _field(1, tensor))


def with_outputs(model: bytes, outputs: list[tuple[str, int]]) -> bytes:
    """The model with ``(tensor name, element type)`` pairs added to its graph's outputs."""
    index = 0
    while index < len(model):
        start = index
        tag, index = _read_varint(model, index)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, index = _read_varint(model, index)
        elif wire == 1:
            index += 8
        elif wire == 5:
            index += 4
        elif wire == _LENGTH_DELIMITED:
            length, body = _read_varint(model, index)
            index = body + length
            if number == _GRAPH:
                extra = b"".join(_field(_GRAPH_OUTPUT, _value_info(name, kind)) for name, kind in outputs)
                return model[:start] + _field(_GRAPH, model[body:index] + extra) + model[index:]
        else:
            raise ValueError(f"not an ONNX model (protobuf wire type {wire})")
    raise ValueError("not an ONNX model (no graph)")
