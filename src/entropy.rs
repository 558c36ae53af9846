//! Random numbers from the operating system, for everything a peer must not guess: SIP tags,
//! branches and Call-IDs (RFC 3261 §19.3 asks for cryptographic randomness), RTP SSRCs and
//! initial sequence numbers (RFC 3550 §5.1), digest cnonces.
//!
//! One source, so nothing in the tree falls back to a clock or a hasher seed.

/// 32 random bits. The OS source cannot fail on Linux once the pool is initialised; if it
/// ever did, carrying on with predictable identifiers would be worse than stopping.
pub fn u32() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    u32::from_le_bytes(b)
}

/// `n` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ() {
        let draws: std::collections::BTreeSet<u32> = (0..64).map(|_| super::u32()).collect();
        assert!(draws.len() > 60, "64 draws gave only {} distinct values", draws.len());
    }
}
