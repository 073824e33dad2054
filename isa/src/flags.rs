//! RFLAGS bits and condition codes.

use bitflags::bitflags;

bitflags! {
    /// The RFLAGS bits the semantics model, at their architectural bit positions.
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
    pub struct Flags: u64 {
        /// Carry.
        const CF = 1 << 0;
        /// Parity of the low result byte.
        const PF = 1 << 2;
        /// Auxiliary (BCD) carry out of bit 3.
        const AF = 1 << 4;
        /// Zero.
        const ZF = 1 << 6;
        /// Sign.
        const SF = 1 << 7;
        /// Trap (single-step); kept only so FMASK/IRET images round-trip.
        const TF = 1 << 8;
        /// Interrupt enable.
        const IF = 1 << 9;
        /// Direction.
        const DF = 1 << 10;
        /// Overflow.
        const OF = 1 << 11;
    }
}

impl Flags {
    /// The six status flags arithmetic instructions write.
    pub const ARITH: Flags = Flags::CF
        .union(Flags::PF)
        .union(Flags::AF)
        .union(Flags::ZF)
        .union(Flags::SF)
        .union(Flags::OF);
}

/// A condition code, as used by `jcc`, `setcc` and `cmovcc` (SDM Vol. 1 Appendix B).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Cond {
    O = 0,
    No,
    B,
    Ae,
    E,
    Ne,
    Be,
    A,
    S,
    Ns,
    P,
    Np,
    L,
    Ge,
    Le,
    G,
}

impl Cond {
    /// All sixteen conditions in encoding order (the low nibble of `0x70+cc`).
    pub const ALL: [Cond; 16] = [
        Cond::O,
        Cond::No,
        Cond::B,
        Cond::Ae,
        Cond::E,
        Cond::Ne,
        Cond::Be,
        Cond::A,
        Cond::S,
        Cond::Ns,
        Cond::P,
        Cond::Np,
        Cond::L,
        Cond::Ge,
        Cond::Le,
        Cond::G,
    ];

    /// Whether the condition holds for `f`.
    pub fn eval(self, f: Flags) -> bool {
        let cf = f.contains(Flags::CF);
        let zf = f.contains(Flags::ZF);
        let sf = f.contains(Flags::SF);
        let of = f.contains(Flags::OF);
        let pf = f.contains(Flags::PF);
        let base = match (self as u8) >> 1 {
            0 => of,
            1 => cf,
            2 => zf,
            3 => cf || zf,
            4 => sf,
            5 => pf,
            6 => sf != of,
            _ => zf || sf != of,
        };
        // Odd encodings are the negations of the even ones.
        base ^ ((self as u8) & 1 == 1)
    }

    /// The flags this condition reads.
    pub fn reads(self) -> Flags {
        match (self as u8) >> 1 {
            0 => Flags::OF,
            1 => Flags::CF,
            2 => Flags::ZF,
            3 => Flags::CF | Flags::ZF,
            4 => Flags::SF,
            5 => Flags::PF,
            6 => Flags::SF | Flags::OF,
            _ => Flags::ZF | Flags::SF | Flags::OF,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_match_sdm_table() {
        // SDM Vol. 1 Table B-1: JL is SF != OF, JBE is CF=1 or ZF=1, JG is ZF=0 and SF=OF.
        assert!(Cond::L.eval(Flags::SF));
        assert!(!Cond::L.eval(Flags::SF | Flags::OF));
        assert!(Cond::Be.eval(Flags::ZF));
        assert!(!Cond::A.eval(Flags::CF));
        assert!(Cond::G.eval(Flags::empty()));
        assert!(!Cond::G.eval(Flags::ZF));
        assert!(Cond::Np.eval(Flags::empty()));
    }
}
