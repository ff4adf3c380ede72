#!/usr/bin/env python3
"""Independent computation of IKEv2 key derivation vectors (RFC 7296 sections 2.13-2.18)
with Python's hmac module, for the TypeScript test initiator's self-test. Run:
    python3 derive.py > derive.json
Inputs are fixed: the RFC 5903 section 8.1 ECP-256 shared secret and made-up nonces/SPIs."""
import hashlib, hmac, json

def h(s): return bytes.fromhex(s.replace(" ", ""))
def prf(k, m, alg="sha256"): return hmac.new(k, m, getattr(hashlib, alg)).digest()
def prf_plus(k, s, n, alg="sha256"):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(k, t + s + bytes([i]), alg); out += t; i += 1
    return out[:n]

ni = bytes(range(0x10, 0x30))          # 32 bytes
nr = bytes(range(0x40, 0x60))
spi_i = h("0102030405060708"); spi_r = h("a1a2a3a4a5a6a7a8")
gir = h("D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE")
psk = b"correct horse battery staple"
out = {"ni": ni.hex(), "nr": nr.hex(), "spiI": spi_i.hex(), "spiR": spi_r.hex(), "gir": gir.hex(),
       "psk": psk.decode()}
cases = []
for name, alg, prf_len, encr, integ in [
    ("aes128gcm16-prfsha256", "sha256", 32, 20, 0),
    ("aes256-sha256", "sha256", 32, 32, 32),
    ("aes256gcm16-prfsha384", "sha384", 48, 36, 0),
    ("chacha20poly1305-prfsha512", "sha512", 64, 36, 0),
]:
    skeyseed = prf(ni + nr, gir, alg)
    sizes = [prf_len, integ, integ, encr, encr, prf_len, prf_len]
    ks = prf_plus(skeyseed, ni + nr + spi_i + spi_r, sum(sizes), alg)
    keys, o = [], 0
    for n in sizes:
        keys.append(ks[o:o + n].hex()); o += n
    sk_d, sk_pi, sk_pr = bytes.fromhex(keys[0]), bytes.fromhex(keys[5]), bytes.fromhex(keys[6])
    # AUTH for IDi = ID_IPV4_ADDR 192.0.2.2 over a made-up RealMessage1.
    msg1 = b"IKE_SA_INIT request bytes"
    idi = bytes([1, 0, 0, 0, 192, 0, 2, 2])
    auth = prf(prf(psk, b"Key Pad for IKEv2", alg), msg1 + nr + prf(sk_pi, idi, alg), alg)
    # CHILD_SA KEYMAT (AES-GCM-16-128 with salt: 20 bytes per direction), with and without PFS.
    cni, cnr = bytes(range(0x70, 0x90)), bytes(range(0xa0, 0xc0))
    keymat = prf_plus(sk_d, cni + cnr, 40, alg)
    keymat_pfs = prf_plus(sk_d, gir + cni + cnr, 40, alg)
    # IKE SA rekey: SKEYSEED = prf(SK_d, g^ir | Ni | Nr).
    new_i, new_r = h("1112131415161718"), h("2122232425262728")
    rk_seed = prf(sk_d, gir + cni + cnr, alg)
    rk = prf_plus(rk_seed, cni + cnr + new_i + new_r, sum(sizes), alg)
    cases.append({"name": name, "skeyseed": skeyseed.hex(), "keys": keys,
                  "msg1": msg1.hex(), "idi": idi.hex(), "auth": auth.hex(),
                  "childNi": cni.hex(), "childNr": cnr.hex(), "keymat": keymat.hex(),
                  "keymatPfs": keymat_pfs.hex(), "rekeySpiI": new_i.hex(), "rekeySpiR": new_r.hex(),
                  "rekeyKeys": rk.hex()})
out["cases"] = cases
print(json.dumps(out, indent=1))
