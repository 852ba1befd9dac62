"""The numba kernels of format 3 (gencli.lm.compression.bit_coding): a binary arithmetic coder, context models
of bytes, and the token coder that joins them with the network. One module: numba's on-disk cache is keyed on
the file of each cached function, so a change to any kernel renews them all.

Binary coder. A binary arithmetic coder with 16-bit probabilities (the carry-less 32-bit coder of the PAQ family).

The interval [x1, x2] of 32-bit integers narrows with each bit: a bit of probability p (of being 1) keeps the
lower share p of it for a 1 and the rest for a 0, so a bit costs -log2 of its probability, to within the 2^-16
rounding of p. When x1 and x2 agree on their top byte, that byte is final: it is written and both shift left.
The decoder follows the same interval with the 32 bits it has read; beyond the end of the archive it reads
zeros, so the encoder ends with the one byte that puts a zero-padded value inside the last interval, and
trailing zero bytes can be left out of the archive.

State (int64 array): X1, X2, X (the decoder's value), AT (bytes written, or read by the decoder).

Byte models. Context models of bytes for bit-by-bit prediction: order-k counters, a match model, APM stages.

As in the PAQ family (Mahoney 2005), a byte is predicted one bit at a time, most significant first; c0 is 1
followed by the bits of the current byte seen so far (1..255), so a context and c0 together name the bit.
- Order k (0..orders): an adaptive probability per hashed (last k bytes, c0), p += (bit - p) / (n + 1.5) with n
  the times the slot was seen, capped at `limit` (so a slot keeps adapting). Hash collisions are not checked.
- Match model: the last occurrence of the latest `min_len` bytes (a hash table of positions, checked backwards
  byte by byte) predicts that the byte after it comes again; how often such a prediction held, per match
  length, is the input's strength.
- APM (adaptive probability map, or SSE): a probability refined by a context: a piecewise-linear map of its
  stretch, 33 knots from -8 to 8 per context, each knot moved toward the bit by its share of the interpolation.
stretch(p) = ln(p / (1 - p)), squash its inverse. All in fixed-width integers and float64 with a fixed order of
operations, so encoder and decoder compute the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

X1, X2, X, AT = 0, 1, 2, 3
ONE = 65536  # probabilities are integers out of ONE, in [1, ONE - 1]


def new_state() -> np.ndarray:
    return np.array([0, 0xFFFFFFFF, 0, 0], dtype=np.int64)


@njit(cache=True)
def _split(x1, x2, p16):
    r = x2 - x1
    return x1 + (r >> 16) * p16 + (((r & 0xFFFF) * p16) >> 16)


@njit(cache=True)
def encode_bit(state, out, bit, p16):
    """Code `bit` (0/1) of probability p16 / ONE of being 1, writing finished bytes to `out`."""
    x1, x2 = state[X1], state[X2]
    mid = _split(x1, x2, p16)
    if bit:
        x2 = mid
    else:
        x1 = mid + 1
    while ((x1 ^ x2) & 0xFF000000) == 0:
        out[state[AT]] = x2 >> 24
        state[AT] += 1
        x1 = (x1 << 8) & 0xFFFFFFFF
        x2 = ((x2 << 8) & 0xFFFFFFFF) | 0xFF
    state[X1], state[X2] = x1, x2


@njit(cache=True)
def start_decoder(state, data):
    """Read the first 32 bits of `data` (zeros past its end)."""
    x = 0
    for _ in range(4):
        x = (x << 8) | (data[state[AT]] if state[AT] < len(data) else 0)
        state[AT] += 1
    state[X] = x


@njit(cache=True)
def decode_bit(state, data, p16):
    """The next bit, coded with probability p16 / ONE of being 1."""
    x1, x2, x = state[X1], state[X2], state[X]
    mid = _split(x1, x2, p16)
    bit = 1 if x <= mid else 0
    if bit:
        x2 = mid
    else:
        x1 = mid + 1
    while ((x1 ^ x2) & 0xFF000000) == 0:
        x1 = (x1 << 8) & 0xFFFFFFFF
        x2 = ((x2 << 8) & 0xFFFFFFFF) | 0xFF
        x = ((x << 8) & 0xFFFFFFFF) | (data[state[AT]] if state[AT] < len(data) else 0)
        state[AT] += 1
    state[X1], state[X2], state[X] = x1, x2, x
    return bit


def finish(state: np.ndarray, out: np.ndarray) -> bytes:
    """The coded bytes: those written, then the byte b with b * 2^24 in [x1, x2], trailing zero bytes left out."""
    x1 = int(state[X1])
    last = (x1 >> 24) + (1 if x1 & 0xFFFFFF else 0)  # <= x2 >> 24: x1 and x2 differ in their top byte
    return (bytes(out[: state[AT]]) + bytes([last])).rstrip(b"\0")


MATCH_LENGTHS = 32  # the match model's strength is learned per length, up to this
APM_KNOTS = 33
COUNTER_ONE = 65536


def counter_rates(limit: int) -> np.ndarray:
    """65536 / (n + 1.5) for n = 0..limit: the step of a counter seen n times."""
    return np.array([int(COUNTER_ONE / (n + 1.5)) for n in range(limit + 1)], dtype=np.int64)


def apm_table(contexts: int) -> np.ndarray:
    """An APM that starts as the identity: knot j at squash((j - 16) / 2)."""
    knots = np.array([1 / (1 + math.exp(-(j - 16) / 2)) for j in range(APM_KNOTS)])
    return np.tile(knots, (contexts, 1))


@njit(cache=True)
def stretch(p):
    return math.log(p / (1.0 - p))


@njit(cache=True)
def squash(x):
    if x > 30.0:
        x = 30.0
    elif x < -30.0:
        x = -30.0
    return 1.0 / (1.0 + math.exp(-x))


@njit(cache=True)
def mix32(x):
    """A 32-bit integer hash (xor-shift-multiply rounds; products stay below 2^59, so nothing overflows)."""
    x &= 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    return x ^ (x >> 16)


WORD_CONTEXTS = 2  # after the orders: the current word, and it with the word before


@njit(cache=True)
def _is_letter(b):
    return (65 <= b <= 90) or (97 <= b <= 122) or b >= 128


@njit(cache=True)
def order_hashes(hist, start, end, orders, out):
    """out[k] = hash of the last k bytes of hist[start:end] (zeros before start), k = 0..orders; then the hash of
    the letters of the current word (lower case; none between words), and of it with the word before. < 2^32."""
    for k in range(orders + 1):
        h = mix32(k + 1)
        for j in range(k):
            at = end - 1 - j
            b = hist[at] if at >= start else 0
            h = mix32(h ^ ((b + 1) << 24) ^ (b + 1))
        out[k] = h
    at = end - 1
    word = mix32(orders + 2)
    for _ in range(2):
        n = 0
        while at >= start and n < 24 and not _is_letter(hist[at]):
            at -= 1
            n += 1
        n = 0
        while at >= start and n < 24 and _is_letter(hist[at]):
            b = hist[at] | 32 if hist[at] < 128 else hist[at]
            word = mix32(word ^ ((b + 1) << 16))
            at -= 1
            n += 1
        if _ == 0:
            out[orders + 1] = word if end - 1 >= start and _is_letter(hist[end - 1]) else mix32(word ^ hist[end - 1])
        word = mix32(word + 0x51ED27)
    out[orders + 2] = mix32(word ^ out[orders + 1])


@njit(cache=True)
def slot(h, c0, mask):
    """The table slot (hash & mask) of context hash h (< 2^32) and partial byte c0."""
    return mix32(h ^ (c0 * 0x9E3779B1)) & mask


@njit(cache=True)
def update_counter(p, n, i, bit, rates, limit):
    """Move counter i of arrays (p, n) toward `bit`."""
    c = n[i]
    target = COUNTER_ONE if bit else 0
    q = p[i] + (((target - p[i]) * rates[c]) >> 16)
    if q < 64:
        q = 64
    elif q > COUNTER_ONE - 64:
        q = COUNTER_ONE - 64
    p[i] = q
    if c < limit:
        n[i] = c + 1


@njit(cache=True)
def match_hash(hist, end, min_len, table):
    """Slot of hist[end - min_len : end] in the match table (of a power of two slots)."""
    h = 0
    for j in range(min_len):
        h = mix32(h ^ (hist[end - 1 - j] + 1))
    return h & (len(table) - 1)


@njit(cache=True)
def match_after_byte(hist, table, start, end, length, pointer, min_len):
    """After byte hist[end - 1] of a stream whose bytes are hist[start:end]: the match (length, pointer) carried on
    or looked up anew, and the table told where the context before that byte led. Returns (length, pointer)."""
    b = hist[end - 1]
    if length > 0:
        if pointer < len(hist) and hist[pointer] == b:
            length = min(length + 1, 65535)
            pointer += 1
        else:
            length = 0
    if pointer >= len(hist):
        length = 0
    have = end - start
    if have > min_len:
        table[match_hash(hist, end - 1, min_len, table)] = end - 1
    if length == 0 and have >= min_len:
        cand = table[match_hash(hist, end, min_len, table)]
        if cand > 0:
            n = 0
            while (
                n < MATCH_LENGTHS
                and cand - 1 - n >= 0
                and end - 1 - n >= start
                and hist[cand - 1 - n] == hist[end - 1 - n]
            ):
                n += 1
            if n >= min_len:
                length, pointer = n, cand
    return length, pointer


@njit(cache=True)
def apm_lookup(table, ctx, p):
    """(refined probability, knot j, weight f of knot j + 1) of probability p in context ctx."""
    s = stretch(p)
    if s < -7.999:
        s = -7.999
    elif s > 7.999:
        s = 7.999
    pos = (s + 8.0) * 2.0
    j = int(pos)
    f = pos - j
    return table[ctx, j] * (1.0 - f) + table[ctx, j + 1] * f, j, f


@njit(cache=True)
def apm_update(table, ctx, j, f, bit, rate):
    table[ctx, j] += rate * (1.0 - f) * (bit - table[ctx, j])
    table[ctx, j + 1] += rate * f * (bit - table[ctx, j + 1])


ENCODE, DECODE, SCORE = 0, 1, 2
START, END, LENGTH, POINTER = 0, 1, 2, 3  # per-stream state columns
MATCH_STATES = 3  # none, shorter than 16 bytes, longer
MAX_ORDERS = 12
MIX_SETS = (MAX_ORDERS + 2) * MATCH_STATES * 2  # the first mixer's: highest order seen x match state x first byte
CONFIDENCE_BUCKETS = 12  # the second mixer's: the network's confidence |stretch p| x the bit's place
END_SETS_AT = MIX_SETS + CONFIDENCE_BUCKETS * 8 + 256  # the third mixer's: the partial byte c0
END_SETS = 8  # the end-of-token mixer's: the depth in the token
ALL_MIX_SETS = END_SETS_AT + END_SETS
NET_P_MIN = 1  # network-only choices: p16 in [1, 65535]
MIX_P_MIN = 8  # mixed bits: p16 in [8, 65528]


@njit(cache=True)
def mix_dot(w, x):
    """The logistic mixer's sum_i w_i x_i (the x_i stretched probabilities): its prediction is squash of it."""
    dot = 0.0
    for i in range(len(w)):
        dot += w[i] * x[i]
    return dot


@njit(cache=True)
def mix_update(w, x, bit, p, lr):
    """One gradient step on log p(bit): d/dw_i [bit ln p + (1 - bit) ln(1 - p)] = (bit - p) x_i."""
    err = bit - p
    for i in range(len(w)):
        w[i] += lr * err * x[i]


@njit(cache=True)
def _q16(p, lo):
    q = int(p * 65536.0)
    if q < lo:
        q = lo
    elif q > 65536 - lo:
        q = 65536 - lo
    return q


@njit(cache=True)
def _code(mode, bit, p16, coder, buf):
    """Code (or decode) one bit of probability p16/65536 of being 1; returns the bit."""
    if mode == ENCODE:
        encode_bit(coder, buf, bit, p16)
        return bit
    if mode == DECODE:
        return decode_bit(coder, buf, p16)
    return bit


@njit(cache=True)
def _cost(bit, p16):
    return -np.log2(p16 / 65536.0) if bit else -np.log2(1.0 - p16 / 65536.0)


@njit(cache=True)
def _first_at_least(table, lo, hi, depth, value):
    """The first index in [lo, hi) whose byte at `depth` is >= value (bytes sorted ascending there)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if table[mid, depth] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def prime_tables(ranks, table, lengths, hist, orders, cm_p, cm_n, rates, limit, match_table, match_min):
    """The counters (of the bytes' bits and of the end-of-token choices) and the match table learn the tokens of
    the priming text, given by their places in the sorted vocabulary (-1: a special token, skipped), as one
    stream whose bytes are written to hist[0:]. Returns the bytes written."""
    hk = np.zeros(orders + 1 + WORD_CONTEXTS, dtype=np.int64)
    mask = cm_p.shape[1] - 1
    at = 0
    for t in range(len(ranks)):
        r = ranks[t]
        if r < 0:
            continue
        lo, hi, depth = 0, len(lengths), 0
        while True:
            order_hashes(hist, 0, at, orders, hk)
            if lengths[lo] == depth:
                if hi - lo == 1:
                    break
                bit = 1 if r == lo else 0
                salt = mix32(depth + 0x3C6EF372)
                for o in range(len(hk)):
                    update_counter(cm_p[o], cm_n[o], slot(hk[o] ^ salt, 0, mask), bit, rates, limit)
                if bit:
                    break
                lo += 1
            byte = table[r, depth]
            c0 = 1
            for k in range(8):
                m = _first_at_least(table, lo, hi, depth, ((c0 - (1 << k)) << (8 - k)) + (1 << (7 - k)))
                bit = (byte >> (7 - k)) & 1
                for o in range(len(hk)):
                    update_counter(cm_p[o], cm_n[o], c0 if o == 0 else slot(hk[o], c0, mask), bit, rates, limit)
                c0 = c0 * 2 + bit
                if bit:
                    lo = m
                else:
                    hi = m
            hist[at] = byte
            at += 1
            if match_min > 0:
                match_after_byte(hist, match_table, 0, at, 0, 0, match_min)
            depth += 1
    return at


@njit(cache=True)
def code_tokens(
    mode, probs, tokens, bits_out, weights_out,
    order, rank, table, lengths, specials,
    hist, streams, hk, cm_p, cm_n, rates, limit, match_table, match_p, match_n, match_min,
    weights, apm1, apm2, apm_end, params, coder, buf,
):  # fmt: skip
    """Code (ENCODE, SCORE) or decode (DECODE, filling `tokens`) one token of each of the first len(probs) streams,
    in order, from their network distributions `probs` (n, V). bits_out[s]: the token's cost in bits;
    weights_out[s]: the mixer's mean weights over the token's mixed bits."""
    lr, apm_rate, floor, mix_share = params[0], params[1], params[2], params[3]
    n_stream, vocab = probs.shape
    regular = len(order)
    n_ctx = hk.shape[1]
    orders = n_ctx - 1 - WORD_CONTEXTS
    n_in = weights.shape[1]
    x = np.zeros(n_in)
    idx = np.zeros(n_ctx, dtype=np.int64)
    mask = cm_p.shape[1] - 1
    cum = np.zeros(regular + 1)
    for s in range(n_stream):
        cost = 0.0
        used = 0
        for i in range(n_in):
            weights_out[s, i] = 0.0
        uniform = floor / vocab
        for r in range(regular):
            cum[r + 1] = cum[r] + probs[s, order[r]] * (1.0 - floor) + uniform
        special_mass = 0.0
        for j in range(len(specials)):
            special_mass += probs[s, specials[j]] * (1.0 - floor) + uniform
        target = rank[tokens[s]] if mode != DECODE else -1
        # a special token? (the network alone; it has no bytes)
        if len(specials) > 0:
            p16 = _q16(special_mass / (special_mass + cum[regular]), NET_P_MIN)
            bit = _code(mode, 1 if (mode != DECODE and target < 0) else 0, p16, coder, buf)
            cost += _cost(bit, p16)
            if bit:
                lo, hi = 0, len(specials)
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    a = b = 0.0
                    for j in range(lo, mid):
                        a += probs[s, specials[j]]
                    for j in range(mid, hi):
                        b += probs[s, specials[j]]
                    p16 = _q16((b + 1e-12) / (a + b + 2e-12), NET_P_MIN)
                    want = 1 if (mode != DECODE and tokens[s] >= specials[mid]) else 0
                    bit = _code(mode, want, p16, coder, buf)
                    cost += _cost(bit, p16)
                    if bit:
                        lo = mid
                    else:
                        hi = mid
                tokens[s] = specials[lo]
                bits_out[s] = cost
                continue
        lo, hi, depth = 0, regular, 0
        start = streams[s, START]
        while True:
            end = streams[s, END]
            order_hashes(hist, start, end, orders, hk[s])
            if lengths[lo] == depth:  # the prefix itself is a token
                if hi - lo == 1:
                    break
                p_end = (cum[lo + 1] - cum[lo]) / (cum[hi] - cum[lo])
                p_end = min(max(p_end, 1e-9), 1 - 1e-9)
                salt = mix32(depth + 0x3C6EF372)
                for o in range(n_ctx):
                    idx[o] = slot(hk[s, o] ^ salt, 0, mask)  # c0 = 0: no bit of a byte uses these slots
                x[0] = max(-12.0, min(12.0, stretch(p_end)))
                for o in range(n_ctx):
                    x[1 + o] = stretch(cm_p[o, idx[o]] / 65536.0)
                x[n_ctx + 1] = 0.0
                x[n_ctx + 2] = 0.3
                we = END_SETS_AT + min(depth, END_SETS - 1)
                p_e = squash(mix_dot(weights[we], x))
                ctx = lo & (len(apm_end) - 1)
                pa, j, f = apm_lookup(apm_end, ctx, min(max(p_e, 1e-6), 1 - 1e-6))
                p16 = _q16(0.5 * p_e + 0.5 * pa, NET_P_MIN)
                bit = _code(mode, 1 if target == lo else 0, p16, coder, buf)
                cost += _cost(bit, p16)
                apm_update(apm_end, ctx, j, f, bit, apm_rate)
                mix_update(weights[we], x, bit, p_e, lr)
                for o in range(n_ctx):
                    update_counter(cm_p[o], cm_n[o], idx[o], bit, rates, limit)
                if bit:
                    break
                lo += 1
            length, pointer = streams[s, LENGTH], streams[s, POINTER]
            expected = hist[pointer] if length > 0 else 0
            c1 = hist[end - 1] if end > start else 0
            c2 = hist[end - 2] if end - 1 > start else 0
            c0 = 1
            for k in range(8):
                mid = ((c0 - (1 << k)) << (8 - k)) + (1 << (7 - k))
                m = _first_at_least(table, lo, hi, depth, mid)
                for o in range(n_ctx):
                    idx[o] = c0 if o == 0 else slot(hk[s, o], c0, mask)
                match_bit = -1
                if length > 0 and ((expected + 256) >> (8 - k)) == c0:
                    match_bit = (expected >> (7 - k)) & 1
                mlen = min(length, MATCH_LENGTHS - 1)
                if m == lo:
                    bit = 1
                elif m == hi:
                    bit = 0
                else:
                    p_net = (cum[hi] - cum[m]) / (cum[hi] - cum[lo])
                    p_net = min(max(p_net, 1e-9), 1 - 1e-9)
                    x[0] = max(-12.0, min(12.0, stretch(p_net)))
                    for o in range(n_ctx):
                        x[1 + o] = stretch(cm_p[o, idx[o]] / 65536.0)
                    if match_bit >= 0:
                        sm = stretch(match_p[mlen] / 65536.0)
                        x[n_ctx + 1] = sm if match_bit else -sm
                        state = 1 if length < 16 else 2
                    else:
                        x[n_ctx + 1] = 0.0
                        state = 0
                    x[n_ctx + 2] = 0.3
                    seen = 0
                    for o in range(1, orders + 1):
                        if cm_n[o, idx[o]] > 0:
                            seen = o + 1
                    ws = (seen * MATCH_STATES + state) * 2 + (1 if depth == 0 else 0)
                    confidence = min(int(abs(x[0]) * 1.5), CONFIDENCE_BUCKETS - 1)
                    wt = MIX_SETS + confidence * 8 + k
                    wc = MIX_SETS + CONFIDENCE_BUCKETS * 8 + c0
                    dot_a, dot_b, dot_c = mix_dot(weights[ws], x), mix_dot(weights[wt], x), mix_dot(weights[wc], x)
                    p_a, p_b, p_c = squash(dot_a), squash(dot_b), squash(dot_c)
                    p_mix = squash((dot_a + dot_b + dot_c) / 3.0)
                    pm = min(max(p_mix, 1e-6), 1 - 1e-6)
                    ctx1 = ((c1 << 8) | c0) & (len(apm1) - 1)
                    ctx2 = mix32((((c2 << 8) | c1) << 8) | c0) & (len(apm2) - 1)
                    pa1, j1, f1 = apm_lookup(apm1, ctx1, pm)
                    pa2, j2, f2 = apm_lookup(apm2, ctx2, pm)
                    p_final = mix_share * p_mix + (1 - mix_share) * 0.5 * (pa1 + pa2)
                    p16 = _q16(p_final, MIX_P_MIN)
                    bit = _code(mode, 1 if target >= m else 0, p16, coder, buf)
                    cost += _cost(bit, p16)
                    for i in range(n_in):
                        weights_out[s, i] += (weights[ws, i] + weights[wt, i] + weights[wc, i]) / 3.0
                    mix_update(weights[ws], x, bit, p_a, lr)
                    mix_update(weights[wt], x, bit, p_b, lr)
                    mix_update(weights[wc], x, bit, p_c, lr)
                    used += 1
                    apm_update(apm1, ctx1, j1, f1, bit, apm_rate)
                    apm_update(apm2, ctx2, j2, f2, bit, apm_rate)
                for o in range(n_ctx):
                    update_counter(cm_p[o], cm_n[o], idx[o], bit, rates, limit)
                if match_bit >= 0:
                    update_counter(match_p, match_n, mlen, 1 if bit == match_bit else 0, rates, limit)
                c0 = c0 * 2 + bit
                if bit:
                    lo = m
                else:
                    hi = m
            hist[end] = c0 - 256
            streams[s, END] = end + 1
            if match_min > 0:
                length, pointer = match_after_byte(hist, match_table, start, end + 1, length, pointer, match_min)
            streams[s, LENGTH], streams[s, POINTER] = length, pointer
            depth += 1
        tokens[s] = order[lo]
        bits_out[s] = cost
        if used:
            for i in range(n_in):
                weights_out[s, i] /= used
