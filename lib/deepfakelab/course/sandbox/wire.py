"""Data, and only data, between the hidden checks and the sandbox that runs a student's code.

A call to a student's function crosses a process boundary: its arguments go into the sandbox
and its result comes back as a frame that holds a JSON tree and NumPy arrays (an ``.npz``
written without pickles, read with ``allow_pickle=False``). Numbers, strings, lists, tuples,
dicts with string keys, arrays and tensors (as arrays, restored as tensors) cross; anything
else -- a function, a module, an object with methods that could lie -- is refused with a
message naming its type. Nothing read from a frame is ever executed.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any, BinaryIO

import numpy as np

#: Largest frame accepted (bytes): a result of hundreds of MB is a mistake or an attack.
MAX_FRAME = 256 * 1024 * 1024
#: Longest message of a student's exception sent back (characters): enough to say what went wrong, too
#: short to carry files; it may reach the feedback.
MESSAGE_CHARS = 300
_LENGTH = struct.Struct("!Q")


class WireError(ValueError):
    """A value that cannot cross (its type), or a frame that is not one (truncated, too big)."""


def _encode(value: Any, arrays: list[np.ndarray], where: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (
            {"__float__": repr(float(value))}
            if isinstance(value, float) and not np.isfinite(value)
            else value
        )
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays, where)
    if (
        isinstance(value, np.ndarray)
        or type(value).__module__.startswith("torch")
        and hasattr(value, "detach")
    ):
        is_tensor = not isinstance(value, np.ndarray)
        array = value.detach().cpu().numpy() if is_tensor else value
        if array.dtype.kind not in "biufc":
            raise WireError(f"{where}: an array of {array.dtype} cannot be checked; use numbers")
        arrays.append(np.ascontiguousarray(array))
        return {"__array__": len(arrays) - 1, "tensor": is_tensor}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError(f"{where}: a dict whose keys are not all strings cannot be checked")
        if any(k.startswith("__") for k in value):
            raise WireError(f"{where}: dict keys starting with '__' are reserved")
        return {k: _encode(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}
    if hasattr(value, "__fspath__"):
        return str(value)
    raise WireError(
        f"{where}: a {type(value).__name__} cannot be checked; return numbers, strings, lists, "
        "dicts, NumPy arrays or tensors"
    )


def _decode(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, list):
        return [_decode(v, arrays) for v in tree]
    if isinstance(tree, dict):
        if "__array__" in tree:
            array = arrays[f"a{int(tree['__array__'])}"]
            if tree.get("tensor"):
                import torch  # deferred: the media decoder's server never loads torch (+2 s per start)

                return torch.from_numpy(array.copy())
            return array
        if "__tuple__" in tree:
            return tuple(_decode(v, arrays) for v in tree["__tuple__"])
        if "__float__" in tree:
            return float(tree["__float__"])
        return {k: _decode(v, arrays) for k, v in tree.items()}
    return tree


def dumps(message: dict) -> bytes:
    """``message`` (a dict of data) as one frame's payload."""
    arrays: list[np.ndarray] = []
    tree = _encode(message, arrays, "value")
    buffer = io.BytesIO()
    header = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    np.savez(buffer, header=header, **{f"a{i}": a for i, a in enumerate(arrays)})
    return buffer.getvalue()


def loads(payload: bytes) -> dict:
    """The message in a frame's payload; raises :class:`WireError` for anything malformed."""
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        tree = json.loads(arrays.pop("header").tobytes().decode())
        message = _decode(tree, arrays)
    except WireError:
        raise
    except Exception as exc:  # a truncated or forged frame: zip, npy, JSON or key errors
        raise WireError(f"not a valid message ({type(exc).__name__}: {exc})") from None
    if not isinstance(message, dict):
        raise WireError("not a valid message (not a dict)")
    return message


def send(stream: BinaryIO, message: dict) -> None:
    payload = dumps(message)
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def receive(stream: BinaryIO) -> dict:
    """The next message on ``stream``; :class:`EOFError` when it closed first."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the stream closed")
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise WireError(f"a message of {length} bytes is larger than the {MAX_FRAME} allowed")
    payload = stream.read(length)
    if len(payload) < length:
        raise EOFError("the stream closed in the middle of a message")
    return loads(payload)
