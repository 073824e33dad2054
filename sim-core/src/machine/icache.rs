//! The L1 instruction cache: private *copies* of code lines.
//!
//! Copies are not updated when memory changes; only an invalidation (own store,
//! snoop, serialization, eviction) makes the core read memory again. That is what lets
//! a core run stale instruction bytes after another core rewrote them.

use super::memsys::LINE;

const INVALID: u64 = u64::MAX;

/// A set-associative cache of 64-byte code-line copies with LRU replacement.
#[derive(Clone, Debug)]
pub struct ICache {
    sets: usize,
    ways: usize,
    tags: Vec<u64>,
    stamps: Vec<u64>,
    lines: Vec<[u8; LINE as usize]>,
    clock: u64,
}

impl ICache {
    /// An empty cache of `sets` x `ways` lines (`sets` rounded up to a power of two).
    pub fn new(sets: usize, ways: usize) -> ICache {
        let sets = sets.max(1).next_power_of_two();
        let ways = ways.max(1);
        ICache {
            sets,
            ways,
            tags: vec![INVALID; sets * ways],
            stamps: vec![0; sets * ways],
            lines: vec![[0; LINE as usize]; sets * ways],
            clock: 0,
        }
    }

    fn set_range(&self, line: u64) -> std::ops::Range<usize> {
        let set = ((line / LINE) as usize) & (self.sets - 1);
        set * self.ways..(set + 1) * self.ways
    }

    fn find(&self, line: u64) -> Option<usize> {
        self.set_range(line).find(|&i| self.tags[i] == line)
    }

    /// The cached copy of `line`, if present (marks it recently used).
    pub fn lookup(&mut self, line: u64) -> Option<&[u8; LINE as usize]> {
        let i = self.find(line)?;
        self.clock += 1;
        self.stamps[i] = self.clock;
        Some(&self.lines[i])
    }

    /// Whether a copy of `line` is present.
    pub fn contains(&self, line: u64) -> bool {
        self.find(line).is_some()
    }

    /// Install a copy of `line`, evicting the least recently used way of its set.
    pub fn fill(&mut self, line: u64, bytes: &[u8; LINE as usize]) {
        let i = self.find(line).unwrap_or_else(|| {
            let range = self.set_range(line);
            range
                .min_by_key(|&i| (self.tags[i] != INVALID, self.stamps[i]))
                .unwrap_or(0)
        });
        self.clock += 1;
        self.tags[i] = line;
        self.stamps[i] = self.clock;
        self.lines[i] = *bytes;
    }

    /// Drop the copy of `line`; returns whether there was one.
    pub fn invalidate(&mut self, line: u64) -> bool {
        match self.find(line) {
            Some(i) => {
                self.tags[i] = INVALID;
                true
            }
            None => false,
        }
    }

    /// Drop every line.
    pub fn invalidate_all(&mut self) {
        self.tags.fill(INVALID);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_stay_until_invalidated_and_lru_evicts() {
        let mut c = ICache::new(1, 2);
        c.fill(0x000, &[1; 64]);
        c.fill(0x040, &[2; 64]);
        assert_eq!(c.lookup(0x000).map(|l| l[0]), Some(1));
        c.fill(0x080, &[3; 64]);
        assert!(
            c.contains(0x000) && !c.contains(0x040),
            "least recently used way evicted"
        );
        assert!(c.invalidate(0x000));
        assert!(!c.invalidate(0x000));
        assert_eq!(c.lookup(0x080).map(|l| l[5]), Some(3));
        c.invalidate_all();
        assert!(!c.contains(0x080));
    }
}
