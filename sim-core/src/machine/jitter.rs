//! Seeded timing perturbation: the only source of randomness in the machine, so the
//! same configuration and seed always produce the same run.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Stretches latencies by a random percentage (see `MachineConfig::timing_jitter`).
#[derive(Clone, Debug)]
pub struct Jitter {
    percent: u32,
    rng: ChaCha8Rng,
}

impl Jitter {
    /// A generator for one consumer (`stream` separates cores and the memory system).
    pub fn new(seed: u64, stream: u64, percent: u32) -> Jitter {
        let mixed = seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Jitter {
            percent,
            rng: ChaCha8Rng::seed_from_u64(mixed),
        }
    }

    /// `latency` stretched by 0..=percent % (at least 0..=1 cycle when enabled).
    pub fn stretch(&mut self, latency: u64) -> u64 {
        if self.percent == 0 {
            return latency;
        }
        let max_extra = (latency * u64::from(self.percent) / 100).max(1);
        latency + self.rng.random_range(0..=max_extra)
    }

    /// A random delay in `0..=max` cycles (0 when disabled).
    pub fn delay(&mut self, max: u64) -> u64 {
        if self.percent == 0 || max == 0 {
            0
        } else {
            self.rng.random_range(0..=max)
        }
    }

    /// The configured percentage.
    pub fn percent(&self) -> u32 {
        self.percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_zero_is_identity() {
        let mut a = Jitter::new(7, 1, 50);
        let mut b = Jitter::new(7, 1, 50);
        let sa: Vec<u64> = (0..32).map(|_| a.stretch(100)).collect();
        let sb: Vec<u64> = (0..32).map(|_| b.stretch(100)).collect();
        assert_eq!(sa, sb);
        assert!(sa.iter().all(|&l| (100..=150).contains(&l)));
        assert!(sa.iter().any(|&l| l != sa[0]), "jitter must vary");
        let mut off = Jitter::new(7, 1, 0);
        assert_eq!(off.stretch(100), 100);
        assert_eq!(off.delay(10), 0);
    }
}
