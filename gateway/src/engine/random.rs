//! The random numbers Spark's JVM draws where they decide an output order:
//! `XORShiftRandom` (seeded through Scala's `MurmurHash3.bytesHash`) with
//! `java.util.Random.nextInt(bound)`'s reduction.

/// Scala's `MurmurHash3.arraySeed`.
const ARRAY_SEED: u32 = 0x3c07_4a61;

fn mix_last(h: u32, k: u32) -> u32 {
    let k = k
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    h ^ k
}

fn mix(h: u32, k: u32) -> u32 {
    mix_last(h, k)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn avalanche(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Scala's `MurmurHash3.bytesHash(data, seed)`.
pub fn bytes_hash(data: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        h = mix(h, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, b) in tail.iter().enumerate() {
            k ^= u32::from(*b) << (8 * i);
        }
        h = mix_last(h, k);
    }
    avalanche(h ^ data.len() as u32)
}

/// Spark's `XORShiftRandom`.
pub struct XorShift {
    seed: i64,
}

impl XorShift {
    /// Seeded as Spark seeds it (`hashSeed`).
    pub fn new(seed: i64) -> XorShift {
        let bytes = seed.to_be_bytes();
        let low = bytes_hash(&bytes, ARRAY_SEED);
        let high = bytes_hash(&bytes, low);
        XorShift {
            seed: ((i64::from(high)) << 32) | i64::from(low),
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        let mut s = self.seed ^ (self.seed << 21);
        s ^= ((s as u64) >> 35) as i64;
        s ^= s << 4;
        self.seed = s;
        (s & ((1i64 << bits) - 1)) as i32
    }

    /// `java.util.Random.nextInt(bound)` over this generator.
    pub fn next_int(&mut self, bound: i32) -> i32 {
        if bound <= 0 {
            return 0;
        }
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}
