//! Architectural registers and the partial-register rules of x86-64.
//!
//! Every model (reference interpreter, out-of-order core) stores the 16 general
//! registers as full 64-bit values; [`RegRef`] says which part an operand reads or
//! writes, and [`RegRef::read`]/[`RegRef::write`] apply the x86 rules once, so no
//! model can get them subtly different.

use std::fmt;

/// One of the 16 general-purpose registers, by its 64-bit name.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Gpr {
    Rax = 0,
    Rcx,
    Rdx,
    Rbx,
    Rsp,
    Rbp,
    Rsi,
    Rdi,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
}

impl Gpr {
    /// All registers in encoding order (RAX = 0 .. R15 = 15).
    pub const ALL: [Gpr; 16] = [
        Gpr::Rax,
        Gpr::Rcx,
        Gpr::Rdx,
        Gpr::Rbx,
        Gpr::Rsp,
        Gpr::Rbp,
        Gpr::Rsi,
        Gpr::Rdi,
        Gpr::R8,
        Gpr::R9,
        Gpr::R10,
        Gpr::R11,
        Gpr::R12,
        Gpr::R13,
        Gpr::R14,
        Gpr::R15,
    ];

    /// Index 0..16 in encoding order, for register-file arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The register with encoding number `n` (0..16).
    pub fn from_index(n: usize) -> Option<Gpr> {
        Gpr::ALL.get(n).copied()
    }

    /// Lower-case 64-bit name, e.g. `rax`, `r12`.
    pub fn name(self) -> &'static str {
        [
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15",
        ][self.index()]
    }
}

impl fmt::Display for Gpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Operand width in bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Width {
    /// 8 bits.
    B1 = 1,
    /// 16 bits.
    B2 = 2,
    /// 32 bits.
    B4 = 4,
    /// 64 bits.
    B8 = 8,
}

impl Width {
    /// Number of bytes.
    pub fn bytes(self) -> usize {
        self as usize
    }

    /// Number of bits.
    pub fn bits(self) -> u32 {
        self as u32 * 8
    }

    /// All-ones mask of this width.
    pub fn mask(self) -> u64 {
        match self {
            Width::B8 => u64::MAX,
            w => (1u64 << w.bits()) - 1,
        }
    }

    /// Mask of the sign bit of this width.
    pub fn sign_bit(self) -> u64 {
        1u64 << (self.bits() - 1)
    }

    /// Sign-extend the low `self` bytes of `v` to 64 bits.
    pub fn sign_extend(self, v: u64) -> u64 {
        let shift = 64 - self.bits();
        (((v << shift) as i64) >> shift) as u64
    }

    /// The width with `n` bytes, if `n` is 1, 2, 4 or 8.
    pub fn from_bytes(n: usize) -> Option<Width> {
        match n {
            1 => Some(Width::B1),
            2 => Some(Width::B2),
            4 => Some(Width::B4),
            8 => Some(Width::B8),
            _ => None,
        }
    }
}

/// A view of a general register as an operand: `eax`, `ax`, `al`, `ah`, `r9d`, ...
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegRef {
    /// The underlying 64-bit register.
    pub gpr: Gpr,
    /// How many bytes the operand covers.
    pub width: Width,
    /// `ah`, `ch`, `dh`, `bh`: bits 8..16 of RAX/RCX/RDX/RBX.
    pub high8: bool,
}

impl RegRef {
    /// The full 64-bit register.
    pub fn full(gpr: Gpr) -> RegRef {
        RegRef {
            gpr,
            width: Width::B8,
            high8: false,
        }
    }

    /// `gpr` seen at `width` (never a high-byte register).
    pub fn new(gpr: Gpr, width: Width) -> RegRef {
        RegRef {
            gpr,
            width,
            high8: false,
        }
    }

    /// Extract this operand's value (zero-extended) from the full register value.
    pub fn read(self, full: u64) -> u64 {
        if self.high8 {
            (full >> 8) & 0xff
        } else {
            full & self.width.mask()
        }
    }

    /// Whether writing this operand keeps some of the old register bits (8- and 16-bit
    /// writes merge; 32-bit writes zero the upper half; 64-bit writes replace).
    /// An out-of-order model must treat the old value as an extra source when true.
    pub fn write_merges(self) -> bool {
        matches!(self.width, Width::B1 | Width::B2)
    }

    /// The full register value after writing `value` to this operand, given the old one.
    pub fn write(self, old: u64, value: u64) -> u64 {
        match (self.width, self.high8) {
            (_, true) => (old & !0xff00) | ((value & 0xff) << 8),
            (Width::B1, false) => (old & !0xff) | (value & 0xff),
            (Width::B2, false) => (old & !0xffff) | (value & 0xffff),
            (Width::B4, false) => value & 0xffff_ffff,
            (Width::B8, false) => value,
        }
    }
}

impl fmt::Display for RegRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LEGACY: [&str; 8] = ["a", "c", "d", "b", "sp", "bp", "si", "di"];
        let i = self.gpr.index();
        if self.high8 {
            return write!(f, "{}h", LEGACY[i]);
        }
        if i >= 8 {
            let suffix = match self.width {
                Width::B1 => "b",
                Width::B2 => "w",
                Width::B4 => "d",
                Width::B8 => "",
            };
            return write!(f, "r{i}{suffix}");
        }
        let base = LEGACY[i];
        let legacy_abcd = i < 4;
        match self.width {
            Width::B8 => write!(f, "r{}{}", base, if legacy_abcd { "x" } else { "" }),
            Width::B4 => write!(f, "e{}{}", base, if legacy_abcd { "x" } else { "" }),
            Width::B2 => write!(f, "{}{}", base, if legacy_abcd { "x" } else { "" }),
            Width::B1 => write!(f, "{base}l"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_follow_x86_rules() {
        let old = 0x1122_3344_5566_7788;
        // SDM Vol. 1 §3.4.1.1: 32-bit operands zero-extend into the 64-bit register.
        assert_eq!(
            RegRef::new(Gpr::Rax, Width::B4).write(old, 0xdead_beef),
            0xdead_beef
        );
        // 8- and 16-bit operands leave the remaining bits unchanged.
        assert_eq!(
            RegRef::new(Gpr::Rax, Width::B2).write(old, 0xbeef),
            0x1122_3344_5566_beef
        );
        assert_eq!(
            RegRef::new(Gpr::Rax, Width::B1).write(old, 0xef),
            0x1122_3344_5566_77ef
        );
        let ah = RegRef {
            gpr: Gpr::Rax,
            width: Width::B1,
            high8: true,
        };
        assert_eq!(ah.write(old, 0xef), 0x1122_3344_5566_ef88);
        assert_eq!(ah.read(old), 0x77);
    }

    #[test]
    fn names_print_like_intel() {
        assert_eq!(RegRef::new(Gpr::Rsi, Width::B1).to_string(), "sil");
        assert_eq!(RegRef::new(Gpr::Rbx, Width::B4).to_string(), "ebx");
        assert_eq!(RegRef::new(Gpr::R9, Width::B2).to_string(), "r9w");
        assert_eq!(RegRef::full(Gpr::Rsp).to_string(), "rsp");
    }
}
