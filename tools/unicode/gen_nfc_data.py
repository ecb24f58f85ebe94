"""Writes the Unicode tables of CodecLlm's NFC normaliser (src/CodecLlm/Tokenization/Unicode/nfc-data.txt) from Python's
unicodedata, and test vectors (tests/CodecLlm.Tests/Tokenization/nfc-vectors.txt: input and unicodedata.normalize('NFC')
of it). usage: python3 tools/unicode/gen_nfc_data.py   (run from the repository root; needs no network)

Table lines (hex code points):
  D cp seq...   cp's full canonical decomposition (recursive; Hangul syllables are algorithmic and not listed)
  C cp class    canonical combining class (non-zero only)
  P a b cp      primary composite: a followed by b composes to cp (Hangul LV/LVT algorithmic, not listed)
"""
import random, sys, unicodedata as ud

MAXCP = 0x110000
SBASE, SCOUNT = 0xAC00, 11172


def canon_decomp(cp):
    d = ud.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return None
    return [int(x, 16) for x in d.split()]


def full_decomp(cp):
    d = canon_decomp(cp)
    if d is None:
        return [cp]
    out = []
    for x in d:
        out.extend(full_decomp(x))
    return out


def main():
    lines = [f"# Unicode {ud.unidata_version} (Python {sys.version.split()[0]} unicodedata), tools/unicode/gen_nfc_data.py"]
    decomps, comps = [], []
    for cp in range(MAXCP):
        if SBASE <= cp < SBASE + SCOUNT or 0xD800 <= cp < 0xE000:
            continue
        d = canon_decomp(cp)
        if d is None:
            continue
        decomps.append((cp, full_decomp(cp)))
        # a primary composite: a two-code-point mapping whose first is a starter, that NFC recomposes
        if len(d) == 2 and ud.combining(chr(d[0])) == 0 and ud.normalize("NFC", chr(d[0]) + chr(d[1])) == chr(cp):
            comps.append((d[0], d[1], cp))
    for cp, seq in decomps:
        lines.append("D " + " ".join(f"{x:X}" for x in [cp] + seq))
    for cp in range(MAXCP):
        if 0xD800 <= cp < 0xE000:
            continue
        c = ud.combining(chr(cp))
        if c:
            lines.append(f"C {cp:X} {c}")
    for a, b, cp in comps:
        lines.append(f"P {a:X} {b:X} {cp:X}")
    open("src/CodecLlm/Tokenization/Unicode/nfc-data.txt", "w", encoding="ascii").write("\n".join(lines) + "\n")

    # vectors: every decomposable code point alone and with marks after it; random runs over a pool of interesting ones
    rnd = random.Random(20261127)
    marks = [cp for cp in range(0x300, 0x370)] + [0x0323, 0x0328, 0x031B, 0x05B0, 0x05C1, 0x093C, 0x094D, 0x0E38, 0x0E48, 0x1DC0, 0x20D0, 0x302A, 0x3099, 0x309A, 0x0F71, 0x0F72, 0x0F74]
    pool = ([cp for cp, _ in decomps if cp < 0x10000] + marks + [ord(c) for c in "aeiouAEIOUnNcCsSzZ"] + list(range(0x1100, 0x1113)) +
            list(range(0x1161, 0x1176)) + list(range(0x11A8, 0x11C3)) + [SBASE, SBASE + 1, SBASE + 28, 0xD7A3, 0x0958, 0x212B, 0x2126, 0x0344, 0x0F73,
            0x0CC6, 0x0CC2, 0x0CD5, 0x0B47, 0x0B3E, 0x0B57, 0x09C7, 0x09BE, 0x0DD9, 0x0DCF, 0x0DDF, 0x1025, 0x102E, 0x1B05, 0x1B35,
            0x110A5, 0x110BA, 0x1D15E, 0x1D165, 0x2ADC, 0xFB1D, 0x0041, 0x0020, 0x4E00])
    vec = []
    for cp, _ in decomps:
        vec.append([cp] if rnd.random() < 0.7 else [cp] + rnd.sample(marks, 2))
    for _ in range(1500):
        vec.append([rnd.choice(pool) for _ in range(rnd.randint(1, 8))])
    out = ["# input ; NFC (hex code points), unicodedata.normalize('NFC') of Unicode " + ud.unidata_version]
    for v in vec:
        s = "".join(chr(x) for x in v)
        n = ud.normalize("NFC", s)
        out.append(" ".join(f"{x:X}" for x in v) + " ; " + " ".join(f"{ord(c):X}" for c in n))
    open("tests/CodecLlm.Tests/Tokenization/nfc-vectors.txt", "w", encoding="ascii").write("\n".join(out) + "\n")
    print(len(decomps), "decompositions,", len(comps), "composites,", len(vec), "vectors")


main()
