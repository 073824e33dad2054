//! Flat, sparse, byte-addressed memory: the architectural memory image.
//!
//! Pages are allocated on first write and kept in a `BTreeMap`, so iteration order
//! (and therefore every dump and comparison) is deterministic.

use std::collections::BTreeMap;

use isa::reg::Width;

/// Page size of the sparse image (not an architectural page size).
pub const PAGE: u64 = 4096;

/// A sparse 64-bit address space of bytes, zero where never written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    pages: BTreeMap<u64, Box<[u8; PAGE as usize]>>,
}

impl Memory {
    /// An all-zero memory.
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Read one byte.
    pub fn read_u8(&self, addr: u64) -> u8 {
        self.pages
            .get(&(addr / PAGE))
            .map_or(0, |p| p[(addr % PAGE) as usize])
    }

    /// Write one byte.
    pub fn write_u8(&mut self, addr: u64, v: u8) {
        let page = self
            .pages
            .entry(addr / PAGE)
            .or_insert_with(|| Box::new([0; PAGE as usize]));
        page[(addr % PAGE) as usize] = v;
    }

    /// Read `width` bytes little-endian, zero-extended.
    pub fn read(&self, addr: u64, width: Width) -> u64 {
        let mut v = 0u64;
        for i in (0..width.bytes() as u64).rev() {
            v = (v << 8) | u64::from(self.read_u8(addr.wrapping_add(i)));
        }
        v
    }

    /// Write the low `width` bytes of `v` little-endian.
    pub fn write(&mut self, addr: u64, width: Width, v: u64) {
        for i in 0..width.bytes() as u64 {
            self.write_u8(addr.wrapping_add(i), (v >> (8 * i)) as u8);
        }
    }

    /// Copy `bytes` to `addr`.
    pub fn load_bytes(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.write_u8(addr.wrapping_add(i as u64), *b);
        }
    }

    /// Read `len` bytes starting at `addr` into `out` (cleared first).
    pub fn read_bytes(&self, addr: u64, len: usize, out: &mut Vec<u8>) {
        out.clear();
        out.extend((0..len as u64).map(|i| self.read_u8(addr.wrapping_add(i))));
    }

    /// Every non-zero byte as `(address, value)`, in address order.
    pub fn nonzero_bytes(&self) -> impl Iterator<Item = (u64, u8)> + '_ {
        self.pages.iter().flat_map(|(p, bytes)| {
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b != 0)
                .map(move |(i, b)| (p * PAGE + i as u64, *b))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_endian_across_pages() {
        let mut m = Memory::new();
        m.write(PAGE - 2, Width::B4, 0xaabb_ccdd);
        assert_eq!(m.read_u8(PAGE - 2), 0xdd);
        assert_eq!(m.read_u8(PAGE + 1), 0xaa);
        assert_eq!(m.read(PAGE - 2, Width::B4), 0xaabb_ccdd);
        assert_eq!(m.read(PAGE - 2, Width::B2), 0xccdd);
        assert_eq!(m.nonzero_bytes().count(), 4);
    }
}
