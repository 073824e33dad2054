//! Byte patterns: alignment padding and data values.

/// The NOP sequences GNU `as` (x86-64, generic tuning) pads code with, by length.
const NOPS: [&[u8]; 11] = [
    &[0x90],
    &[0x66, 0x90],
    &[0x0f, 0x1f, 0x00],
    &[0x0f, 0x1f, 0x40, 0x00],
    &[0x0f, 0x1f, 0x44, 0x00, 0x00],
    &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
    &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
    &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    &[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    &[
        0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
    ],
];

/// `len` bytes of NOPs: as many of the longest NOP as fit, then one shorter NOP.
pub(crate) fn code_padding(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len);
    let mut remaining = len;
    while remaining > 0 {
        let nop = NOPS[remaining.min(NOPS.len()) - 1];
        bytes.extend_from_slice(nop);
        remaining -= nop.len();
    }
    bytes
}

/// `value` as `width` little-endian bytes, if it fits signed or unsigned.
pub(crate) fn data_value_bytes(value: i128, width: usize) -> Option<Vec<u8>> {
    let bits = u32::try_from(width * 8).ok().filter(|&b| b <= 64)?;
    let modulus = 1i128 << bits;
    if value < -(modulus / 2) || value >= modulus {
        return None;
    }
    let bytes = (value.rem_euclid(modulus) as u64).to_le_bytes();
    Some(bytes[..width].to_vec())
}

/// `count` units of `unit` bytes, each holding `value` as GNU's `.fill` stores
/// it: little-endian, truncated to 4 bytes and zero-extended beyond that.
pub(crate) fn fill_bytes(count: u64, unit: u64, value: i128) -> Option<Vec<u8>> {
    let unit = usize::try_from(unit).ok().filter(|&u| u <= 8)?;
    let total = usize::try_from(count)
        .ok()?
        .checked_mul(unit)
        .filter(|&t| t <= 16 << 20)?;
    let low_word = (value as u32).to_le_bytes();
    let pattern: Vec<u8> = (0..unit)
        .map(|i| low_word.get(i).copied().unwrap_or(0))
        .collect();
    let mut bytes = Vec::with_capacity(total);
    for _ in 0..count {
        bytes.extend_from_slice(&pattern);
    }
    Some(bytes)
}
