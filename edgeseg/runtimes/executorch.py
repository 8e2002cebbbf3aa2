"""ExecuTorch: ``executorch.runtime`` with XNNPACK's thread pool set to the thread count.

ExecuTorch's ``load_program`` on bytes that are not a program aborts the whole process (SIGABRT,
exit 134) instead of raising, so :meth:`Executorch.check_file` looks at the flatbuffer header
and the extended header first, on every load, whoever asks (export parity, a teacher, bench).
``edgeseg bench`` also runs every artifact in a child process, so a file that passes this check
and still aborts costs one failed row, not the run.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from edgeseg.runtimes.base import Runtime, Session, TensorInfo, register_runtime
from edgeseg.runtimes.errors import ArtifactLoadError, read_magic

_IDENT = re.compile(rb"ET\d\d")
# ScalarType: the pybindings report it as an int (6) or an enum (ScalarType.Float)
_DTYPES = {
    0: "uint8",
    1: "int8",
    2: "int16",
    3: "int32",
    4: "int64",
    5: "float16",
    6: "float32",
    "Byte": "uint8",
    "Char": "int8",
    "Int": "int32",
    "Long": "int64",
    "Float": "float32",
    "Half": "float16",
}


@register_runtime
class Executorch(Runtime):
    name = "executorch"
    formats = (".pte",)
    requires = ("executorch",)
    preload = ("torch", "executorch.runtime", "executorch.extension.pybindings.portable_lib")
    install_hint = "pip install 'edgeseg[executorch]'"
    hint = (
        "pass a .pte written by edgeseg export --target executorch or ExecuTorch's to_executorch()"
    )

    def check_file(self, path: Path) -> None:
        head = read_magic(path, 32)
        why = header_problem(head, path.stat().st_size)
        if why:
            raise ArtifactLoadError(
                f"{path.name} is not an ExecuTorch program ({why}); {self.hint}"
            )

    def open(self, path: Path, threads: int) -> Session:
        import torch
        from executorch.extension.pybindings.portable_lib import (
            _threadpool_get_thread_count,
            _unsafe_reset_threadpool,
        )
        from executorch.runtime import Runtime as EtRuntime

        if _threadpool_get_thread_count() != threads:
            _unsafe_reset_threadpool(threads)  # before loading: XNNPACK sizes its pool at init
        program = EtRuntime.get().load_program(path)
        meta = program.metadata("forward")
        if meta.num_inputs() != 1:
            raise ArtifactLoadError(
                f"{path.name} takes {meta.num_inputs()} inputs; edgeseg runs one-image models "
                "(one input)"
            )
        method = program.load_method("forward")

        def run(x: np.ndarray) -> np.ndarray:
            return method.execute([torch.from_numpy(np.ascontiguousarray(x))])[0].numpy()

        out = meta.output_tensor_meta(0) if meta.num_outputs() else None
        return Session(
            run, _info(meta.input_tensor_meta(0)), _info(out) if out else None, handle=method
        )


def header_problem(head: bytes, size: int) -> str:
    """Why these first bytes cannot start a .pte (empty when they can)."""
    if len(head) < 16:
        return f"{size} bytes, too short"
    if not _IDENT.fullmatch(head[4:8]):
        return f"file identifier {head[4:8]!r}, expected b'ET..'"
    (root,) = struct.unpack_from("<I", head, 0)
    if not 8 <= root < size:
        return f"flatbuffer root offset {root} outside the {size}-byte file"
    if head[8:12] == b"eh00":  # extended header: length, program size, segment offset and size
        length, program, base, data = struct.unpack_from("<IQQQ", head.ljust(40, b"\0"), 12)
        if length < 24 or program > size or (data and base + data > size):
            return "its extended header points outside the file"
    return ""


def _info(tensor) -> TensorInfo:
    raw = tensor.dtype()
    key = raw if isinstance(raw, int) else str(raw).rsplit(".", 1)[-1]
    if key not in _DTYPES and hasattr(raw, "value"):
        key = int(raw.value)
    return TensorInfo(tuple(int(d) for d in tensor.sizes()), _DTYPES.get(key, str(key)))
