//! A tiny seeded generator (SplitMix64). Demo data must be the same on every
//! machine and every release; `rand`'s `StdRng` does not promise that across
//! versions, and this is all the randomness the generator needs.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [low, high).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low).max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }

    /// An index chosen with the given relative weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut roll = self.range(0, total);
        for (i, w) in weights.iter().enumerate() {
            if roll < u64::from(*w) {
                return i;
            }
            roll -= u64::from(*w);
        }
        weights.len() - 1
    }

    /// A UUIDv7 whose random bits come from this generator, so demo ids are stable.
    pub fn uuid_v7(&mut self, at_ms: i64) -> String {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(at_ms.max(0) as u64, &bytes)
            .into_uuid()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        let id = Rng::new(1).uuid_v7(1_700_000_000_000);
        assert_eq!(id, Rng::new(1).uuid_v7(1_700_000_000_000));
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    }

    #[test]
    fn weights_are_respected() {
        let mut rng = Rng::new(3);
        let hits = (0..10_000).filter(|_| rng.weighted(&[1, 9]) == 1).count();
        assert!((8_700..9_300).contains(&hits), "{hits}");
    }
}
