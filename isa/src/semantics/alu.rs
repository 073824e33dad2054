//! Integer ALU results and their status flags (SDM Vol. 1 §3.4.3.1 and each
//! instruction's "Flags Affected" section).
//!
//! Choices for flags the SDM leaves undefined (reported by `undefined_flags`):
//! logic ops clear AF; `imul` sets SF/ZF/PF from the truncated result and clears
//! AF; shifts clear AF, compute OF with the count-1 formula for every count, and take
//! CF as the last bit shifted out of the zero- (or sign-) extended operand.

use crate::flags::Flags;
use crate::reg::Width;
use crate::uop::AluOp;

/// `op(a, b)` at width `w` (inputs already masked to `w`) given the incoming flags:
/// the result (masked) and the flags the operation computes. The caller keeps only
/// the bits the uop writes. Select, Cmov and Lea are handled by the caller.
pub(super) fn compute(op: AluOp, w: Width, a: u64, b: u64, flags: Flags) -> (u64, Flags) {
    let carry = u64::from(flags.contains(Flags::CF));
    match op {
        AluOp::Add => add(w, a, b, 0),
        AluOp::Adc => add(w, a, b, carry),
        AluOp::Inc => add(w, a, 1, 0),
        AluOp::Sub => sub(w, a, b, 0),
        AluOp::Sbb => sub(w, a, b, carry),
        AluOp::Dec => sub(w, a, 1, 0),
        AluOp::Neg => sub(w, 0, a, 0),
        AluOp::And => logic(w, a & b),
        AluOp::Or => logic(w, a | b),
        AluOp::Xor => logic(w, a ^ b),
        AluOp::Not => (!a & w.mask(), flags),
        AluOp::Shl | AluOp::Shr | AluOp::Sar => shift(op, w, a, b, flags),
        AluOp::Imul => imul(w, a, b),
        AluOp::Mov => (a, flags),
        AluOp::Zext(from) => (a & from.mask(), flags),
        AluOp::Sext(from) => (from.sign_extend(a) & w.mask(), flags),
        AluOp::Setcc(c) => (u64::from(c.eval(flags)), flags),
        AluOp::Select(_) | AluOp::Cmov(_) | AluOp::Lea => {
            unreachable!("{op:?} is evaluated by the caller")
        }
    }
}

/// SF, ZF and PF of a result (PF: even parity of the low byte).
fn szp(w: Width, r: u64) -> Flags {
    let mut f = Flags::empty();
    f.set(Flags::SF, r & w.sign_bit() != 0);
    f.set(Flags::ZF, r & w.mask() == 0);
    f.set(Flags::PF, (r as u8).count_ones().is_multiple_of(2));
    f
}

/// `a + b + c`: CF is the carry out of the top bit, AF the carry out of bit 3, OF set
/// when both addends have the same sign and the result's differs.
fn add(w: Width, a: u64, b: u64, c: u64) -> (u64, Flags) {
    let wide = u128::from(a) + u128::from(b) + u128::from(c);
    let r = wide as u64 & w.mask();
    let mut f = szp(w, r);
    f.set(Flags::CF, wide > u128::from(w.mask()));
    f.set(Flags::AF, (a ^ b ^ r) & 0x10 != 0);
    f.set(Flags::OF, (a ^ r) & (b ^ r) & w.sign_bit() != 0);
    (r, f)
}

/// `a - b - c`: CF is the borrow, AF the borrow into bit 4, OF set when the operands
/// have different signs and the result's sign differs from `a`'s.
fn sub(w: Width, a: u64, b: u64, c: u64) -> (u64, Flags) {
    let r = a.wrapping_sub(b).wrapping_sub(c) & w.mask();
    let mut f = szp(w, r);
    f.set(Flags::CF, u128::from(a) < u128::from(b) + u128::from(c));
    f.set(Flags::AF, (a ^ b ^ r) & 0x10 != 0);
    f.set(Flags::OF, (a ^ b) & (a ^ r) & w.sign_bit() != 0);
    (r, f)
}

/// AND/OR/XOR/TEST: "The OF and CF flags are cleared; the SF, ZF, and PF flags are
/// set according to the result. The state of the AF flag is undefined" (cleared here).
fn logic(w: Width, r: u64) -> (u64, Flags) {
    (r & w.mask(), szp(w, r))
}

/// SHL/SHR/SAR with the count masked to 5 bits (6 for 64-bit operands); a zero
/// count leaves the flags unchanged.
fn shift(op: AluOp, w: Width, a: u64, b: u64, flags: Flags) -> (u64, Flags) {
    let count = (b & if w == Width::B8 { 63 } else { 31 }) as u32;
    if count == 0 {
        return (a, flags);
    }
    let bits = w.bits();
    let (r, cf, of) = match op {
        AluOp::Shl => {
            let wide = u128::from(a) << count;
            let r = wide as u64 & w.mask();
            let cf = (wide >> bits) & 1 == 1;
            (r, cf, (r & w.sign_bit() != 0) != cf)
        }
        AluOp::Shr => {
            let r = a.checked_shr(count).unwrap_or(0);
            (r, (a >> (count - 1)) & 1 == 1, a & w.sign_bit() != 0)
        }
        _ => {
            let s = w.sign_extend(a) as i64;
            let r = (s >> count) as u64 & w.mask();
            (r, (s >> (count - 1)) & 1 == 1, false)
        }
    };
    let mut f = szp(w, r);
    f.set(Flags::CF, cf);
    f.set(Flags::OF, of);
    (r, f)
}

/// Truncating signed multiply: CF = OF = the full product does not fit the width.
fn imul(w: Width, a: u64, b: u64) -> (u64, Flags) {
    let full = i128::from(w.sign_extend(a) as i64) * i128::from(w.sign_extend(b) as i64);
    let r = full as u64 & w.mask();
    let overflow = i128::from(w.sign_extend(r) as i64) != full;
    let mut f = szp(w, r);
    f.set(Flags::CF, overflow);
    f.set(Flags::OF, overflow);
    (r, f)
}
