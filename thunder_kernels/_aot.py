"""Ahead-of-time compilation of every kernel configuration for GPU architectures, no GPU needed.

It catches what the interpreter forgives (dot shapes, shared memory over the limit, unsupported
ops) and exposes the PTX (``wgmma`` on sm_90). Triton fixes interpretation versus compilation
when ``triton.language`` is first imported, so a process that interprets kernels cannot also
compile them: ``compile_all_in_subprocess`` runs ``python -m thunder_kernels._aot`` with
``TRITON_INTERPRET`` unset and reads its JSON report.
"""

import json
import os
import subprocess
import sys
from typing import Dict, List

CAPABILITIES = (80, 90)


def _cases():
    from .normalize import kernels as normalize_kernels
    from .normalize import launchers as normalize_launchers
    from .stft import kernels as stft_kernels
    from .stft import launchers as stft_launchers

    for op, kernels, launchers in (
        ("stft", stft_kernels, stft_launchers),
        ("normalize", normalize_kernels, normalize_launchers),
    ):
        for index, (name, signature, constexprs, num_warps) in enumerate(launchers.compile_cases()):
            yield op, index, getattr(kernels, name), name, signature, constexprs, num_warps


def compile_kernel(kernel, signature: Dict[str, str], constexprs: Dict[str, object], capability: int, num_warps: int = 4):
    """Compile ``kernel`` for ``sm_<capability>``; returns Triton's compiled kernel (``.asm``)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    full_signature = dict(signature)
    for name in constexprs:
        full_signature[name] = "constexpr"
    source = ASTSource(fn=kernel, signature=full_signature, constexprs=dict(constexprs))
    return triton.compile(source, target=GPUTarget("cuda", capability, 32), options={"num_warps": num_warps})


def compile_all(capabilities=CAPABILITIES) -> List[dict]:
    """Compile every configuration the launchers can pick; one report entry per (case, arch)."""
    report = []
    for op, index, kernel, name, signature, constexprs, num_warps in _cases():
        for capability in capabilities:
            entry = dict(op=op, index=index, kernel=name, capability=capability,
                         constexprs={k: str(v) for k, v in constexprs.items()},
                         first_pointer=signature[next(iter(signature))])
            try:
                compiled = compile_kernel(kernel, signature, constexprs, capability, num_warps)
                ptx = compiled.asm["ptx"]
                entry.update(ok=True, shared=compiled.metadata.shared,
                             target=f".target sm_{capability}" in ptx, cubin=bool(compiled.asm["cubin"]),
                             wgmma="wgmma" in ptx, mma_sync="mma.sync" in ptx)
            except Exception as exc:  # reported, and asserted on by the tests
                entry.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])
            report.append(entry)
    return report


def compile_all_in_subprocess(capabilities=CAPABILITIES, timeout: float = 900) -> List[dict]:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    args = [sys.executable, "-m", "thunder_kernels._aot", *map(str, capabilities)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"ahead-of-time compilation crashed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    caps = tuple(int(a) for a in sys.argv[1:]) or CAPABILITIES
    print(json.dumps(compile_all(caps)))
