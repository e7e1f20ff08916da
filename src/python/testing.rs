//! What the randomized unit tests share (built for tests only).

/// xorshift64: a deterministic stream of numbers from `seed` (not zero),
/// the same on every platform, for the differential tests that compare a
/// fast path with the plain one on generated inputs.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
