# Computes the SM3-OTP test vectors of sm3otp_test.go independently of the Go code: SM3 from
# OpenSSL 3 (openssl dgst -sm3), ID layout and truncation of GM/T 0021-2012 clause 6 written here.
# Run: python3 testdata/vectors.py
import subprocess, struct
def sm3(b):
    out = subprocess.run(["openssl","dgst","-sm3","-binary"], input=b, capture_output=True, check=True).stdout
    assert len(out)==32
    return out
def otp(key, T=None, C=None, Q=None, N=6):
    ID = b""
    if T is not None: ID += struct.pack(">Q", T)
    if C is not None: ID += struct.pack(">I", C)
    if Q is not None: ID += Q
    ID = ID.ljust(16, b"\0")
    S = sm3(key+ID)
    od = sum(struct.unpack(">8I", S)) % 2**32
    return S.hex(), od, str(od % 10**N).zfill(N)
K1 = bytes.fromhex("1234567890abcdef1234567890abcdef")
K2 = b"12345678901234567890"
cases = [
 ("K1", K1, dict(T=59//60)),
 ("K1", K1, dict(T=1111111109//60)),
 ("K1", K1, dict(T=1234567890//60)),
 ("K1", K1, dict(T=2000000000//60)),
 ("K1", K1, dict(T=1313712000//60, C=1234, Q=b"5678")),
 ("K1", K1, dict(C=1, Q=b"12345678")),
 ("K1", K1, dict(Q=b"1234")),
 ("K2", K2, dict(T=1234567890//60)),
 ("K2", K2, dict(T=1234567890//60, N=8)),
 ("K2", K2, dict(T=1234567890//30, N=8)),
 ("K2", K2, dict(C=0xffffffff, N=10)),
]
for name, k, kw in cases:
    print(name, kw, otp(k, **kw))
