"""Compiles one kernel file the way KernelLibrary does (NVRTC, the headers beside it, sm_90, -std=c++17, --fmad=true,
-default-device, extra -D options) and writes OUT.ptx and OUT.cubin, for reading what the device's NVRTC made of it.
usage: nvrtc_dump.py LIBNVRTC FILE.cu OUT [-DNAME=VALUE ...]"""
import ctypes, os, sys

lib = ctypes.CDLL(sys.argv[1])
src_path, out, defs = sys.argv[2], sys.argv[3], sys.argv[4:]
inc = os.path.dirname(os.path.abspath(src_path))
hdrs = sorted(f for f in os.listdir(inc) if f.endswith('.cuh'))
hsrc = (ctypes.c_char_p * len(hdrs))(*[open(os.path.join(inc, h), 'rb').read() for h in hdrs])
hnames = (ctypes.c_char_p * len(hdrs))(*[h.encode() for h in hdrs])
prog = ctypes.c_void_p()
assert lib.nvrtcCreateProgram(ctypes.byref(prog), open(src_path, 'rb').read(), os.path.basename(src_path).encode(), len(hdrs), hsrc, hnames) == 0
opts = [b'--gpu-architecture=sm_90', b'-std=c++17', b'--fmad=true', b'-default-device'] + [d.encode() for d in defs]
r = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
n = ctypes.c_size_t()
lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n)); log = ctypes.create_string_buffer(n.value); lib.nvrtcGetProgramLog(prog, log)
if r != 0:
    sys.exit(log.value.decode())
for kind in ('PTX', 'CUBIN'):
    getattr(lib, f'nvrtcGet{kind}Size')(prog, ctypes.byref(n))
    buf = ctypes.create_string_buffer(n.value)
    getattr(lib, f'nvrtcGet{kind}')(prog, buf)
    open(f'{out}.{kind.lower()}', 'wb').write(buf.raw.rstrip(b'\0') if kind == 'PTX' else buf.raw)
