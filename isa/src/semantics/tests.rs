//! Unit checks of individual results against worked examples from the SDM; the
//! exhaustive comparison against real hardware is `sim-core/tests/host_diff.rs`.

use std::collections::HashMap;

use super::*;
use crate::crack::crack;
use crate::decode::tests::instr;
use crate::reg::Gpr;

/// A minimal in-order machine: enough to run one instruction's uops.
#[derive(Default)]
struct Machine {
    regs: [u64; 16],
    flags: Flags,
    temps: [u64; 4],
    mem: HashMap<u64, u8>,
}

impl UopInputs for Machine {
    fn reg(&self, gpr: Gpr) -> u64 {
        self.regs[gpr.index()]
    }
    fn temp(&self, t: u8) -> u64 {
        self.temps[usize::from(t)]
    }
    fn flags(&self) -> Flags {
        self.flags
    }
}

impl Machine {
    fn set(&mut self, loc: Loc, v: u64) {
        match loc {
            Loc::Reg(r) => self.regs[r.index()] = v,
            Loc::Temp(t) => self.temps[usize::from(t)] = v,
            Loc::Flags => self.flags = Flags::from_bits_truncate(v),
        }
    }

    /// Run the instruction `bytes`; returns the branch redirect, if any.
    fn run(&mut self, bytes: &str) -> Option<u64> {
        let mut redirect = None;
        for uop in crack(&instr(bytes)).unwrap() {
            let out = execute(&uop, self);
            if let Some(a) = out.mem {
                let range = a.addr..a.addr + a.width.bytes() as u64;
                match a.store_data {
                    Some(d) => range
                        .enumerate()
                        .for_each(|(i, x)| _ = self.mem.insert(x, (d >> (8 * i)) as u8)),
                    None => {
                        let v = range.rev().fold(0, |v, x| {
                            (v << 8) | u64::from(*self.mem.get(&x).unwrap_or(&0))
                        });
                        let (loc, value) = complete_load(&uop, self, v);
                        self.set(loc, value);
                    }
                }
            }
            if let Some((loc, v)) = out.dst {
                self.set(loc, v);
            }
            if let Some(f) = out.flags {
                self.flags = f;
            }
            redirect = redirect.or(out.redirect);
        }
        redirect
    }
}

fn with(regs: &[(Gpr, u64)]) -> Machine {
    let mut m = Machine::default();
    for &(r, v) in regs {
        m.regs[r.index()] = v;
    }
    m
}

const A: Gpr = Gpr::Rax;
const C: Gpr = Gpr::Rcx;

#[test]
fn add_and_sub_flags() {
    // add al, cl: 0x7f + 1 = 0x80 overflows into the sign bit, carries out of bit 3.
    let mut m = with(&[(A, 0x7f), (C, 1)]);
    m.run("00 c8");
    assert_eq!(m.regs[0], 0x80);
    assert_eq!(m.flags, Flags::OF | Flags::SF | Flags::AF);
    // sub eax, ecx: 0 - 1 borrows everywhere; 0xff has even parity.
    let mut m = with(&[(A, 0), (C, 1)]);
    m.run("29 c8");
    assert_eq!(m.regs[0], 0xffff_ffff);
    assert_eq!(m.flags, Flags::CF | Flags::SF | Flags::AF | Flags::PF);
    // cmp rax, rcx equal: ZF and PF, no write.
    let mut m = with(&[(A, 5), (C, 5)]);
    m.run("48 39 c8");
    assert_eq!((m.regs[0], m.flags), (5, Flags::ZF | Flags::PF));
}

#[test]
fn carry_chains_and_inc() {
    // stc is not modelled; set CF directly. adc eax, ecx: 0xffffffff + 0 + 1.
    let mut m = with(&[(A, 0xffff_ffff), (C, 0)]);
    m.flags = Flags::CF;
    m.run("11 c8");
    assert_eq!(m.regs[0], 0);
    assert_eq!(m.flags, Flags::CF | Flags::ZF | Flags::AF | Flags::PF);
    // sbb al, cl with borrow in: 0 - 0 - 1.
    let mut m = with(&[(A, 0x1200), (C, 0)]);
    m.flags = Flags::CF;
    m.run("18 c8");
    assert_eq!(m.regs[0], 0x12ff);
    assert!(m.flags.contains(Flags::CF | Flags::AF | Flags::SF));
    // inc eax keeps CF (SDM INC: "The CF flag is not affected").
    let mut m = with(&[(A, 0xffff_ffff)]);
    m.flags = Flags::CF;
    m.run("ff c0");
    assert_eq!(m.regs[0], 0);
    assert_eq!(m.flags, Flags::CF | Flags::ZF | Flags::AF | Flags::PF);
}

#[test]
fn shifts_mask_the_count_and_zero_count_keeps_flags() {
    // shl eax, cl with cl = 32: the count masks to 0, nothing changes.
    let mut m = with(&[(A, 0x8000_0001), (C, 32)]);
    m.flags = Flags::OF | Flags::CF;
    m.run("d3 e0");
    assert_eq!((m.regs[0], m.flags), (0x8000_0001, Flags::OF | Flags::CF));
    // shl rax, cl with cl = 33: 64-bit operands mask to 6 bits, so 33 counts.
    let mut m = with(&[(A, 1), (C, 33)]);
    m.run("48 d3 e0");
    assert_eq!(m.regs[0], 1 << 33);
    // sar eax, 1 on a negative number: CF = bit 0, OF = 0.
    let mut m = with(&[(A, 0x8000_0003)]);
    m.run("d1 f8");
    assert_eq!(m.regs[0], 0xc000_0001);
    assert_eq!(
        m.flags & (Flags::CF | Flags::OF | Flags::SF),
        Flags::CF | Flags::SF
    );
    // shl al, 1 out of 0x80: CF = 1, OF = MSB(result) ^ CF = 1.
    let mut m = with(&[(A, 0x80)]);
    m.run("d0 e0");
    assert_eq!(
        m.flags & (Flags::CF | Flags::OF | Flags::ZF),
        Flags::CF | Flags::OF | Flags::ZF
    );
    // shr cl, 1 of 0x81: OF = MSB of the original operand.
    let mut m = with(&[(C, 0x81)]);
    m.run("d0 e9");
    assert_eq!(
        (m.regs[1], m.flags & (Flags::CF | Flags::OF)),
        (0x40, Flags::CF | Flags::OF)
    );
}

#[test]
fn imul_overflow() {
    // imul eax, ecx: 0x10000 * 0x10000 = 2^32 does not fit 32 bits.
    let mut m = with(&[(A, 0x10000), (C, 0x10000)]);
    m.run("0f af c1");
    assert_eq!(m.regs[0], 0);
    assert_eq!(m.flags & (Flags::CF | Flags::OF), Flags::CF | Flags::OF);
    // imul ecx, edx, -1 style: -3 * 5 fits.
    let mut m = with(&[(C, (-3i64) as u64)]);
    m.run("6b c1 05"); // imul eax, ecx, 5
    assert_eq!(m.regs[0], (-15i32) as u32 as u64);
    assert_eq!(m.flags & (Flags::CF | Flags::OF), Flags::empty());
}

#[test]
fn partial_register_writes_and_extensions() {
    let mut m = with(&[(A, 0x1111_2222_3333_4444), (Gpr::Rbx, 0x80)]);
    m.mem.insert(0x80, 0xf0);
    m.run("8a 23"); // mov ah, byte ptr [rbx]
    assert_eq!(m.regs[0], 0x1111_2222_3333_f044);
    m.run("48 0f be 03"); // movsx rax, byte ptr [rbx]
    assert_eq!(m.regs[0], 0xffff_ffff_ffff_fff0);
    m.run("66 0f b6 c3"); // movzx ax, bl
    assert_eq!(m.regs[0], 0xffff_ffff_ffff_0080);
    m.run("48 63 c3"); // movsxd rax, ebx
    assert_eq!(m.regs[0], 0x80);
}

#[test]
fn cmov_32_bit_zero_extends_even_when_false() {
    // SDM CMOVcc: "In 64-bit mode... the upper 32 bits of the destination are cleared
    // even if the condition is false" (for 32-bit operands).
    let mut m = with(&[(A, u64::MAX), (C, 7)]);
    m.run("0f 44 c1"); // cmove eax, ecx with ZF = 0
    assert_eq!(m.regs[0], 0xffff_ffff);
}

#[test]
fn cmpxchg_success_and_failure() {
    // cmpxchg ecx, edx (dst rcx). Equal: rcx = edx zero-extended, rax untouched.
    let mut m = with(&[
        (A, 0xaaaa_aaaa_0000_0005),
        (C, 0xcccc_cccc_0000_0005),
        (Gpr::Rdx, 9),
    ]);
    m.run("0f b1 d1");
    assert_eq!((m.regs[0], m.regs[1]), (0xaaaa_aaaa_0000_0005, 9));
    assert!(m.flags.contains(Flags::ZF));
    // Not equal: eax = ecx zero-extended, rcx untouched.
    let mut m = with(&[
        (A, 0xaaaa_aaaa_0000_0004),
        (C, 0xcccc_cccc_0000_0005),
        (Gpr::Rdx, 9),
    ]);
    m.run("0f b1 d1");
    assert_eq!((m.regs[0], m.regs[1]), (5, 0xcccc_cccc_0000_0005));
    assert!(!m.flags.contains(Flags::ZF));
}

#[test]
fn xadd_and_xchg() {
    // lock xadd dword ptr [rdi], eax
    let mut m = with(&[(A, 3), (Gpr::Rdi, 0x100)]);
    m.mem.insert(0x100, 10);
    m.run("f0 0f c1 07");
    assert_eq!((m.regs[0], m.mem[&0x100]), (10, 13));
    // xchg al, ah
    let mut m = with(&[(A, 0x1234)]);
    m.run("86 c4");
    assert_eq!(m.regs[0], 0x3412);
}

#[test]
fn branches_redirect_only_when_taken() {
    let mut m = Machine::default();
    assert_eq!(m.run("75 1e"), Some(0x20)); // jne at 0, ZF = 0
    m.flags = Flags::ZF;
    assert_eq!(m.run("75 1e"), None);
    let mut m = with(&[(Gpr::Rsp, 0x1000)]);
    m.mem.insert(0x1000, 0x42);
    assert_eq!(m.run("c3"), Some(0x42));
    assert_eq!(m.regs[Gpr::Rsp.index()], 0x1008);
}

#[test]
fn undefined_flags_per_sdm() {
    assert_eq!(undefined_flags(&instr("21 c8")), Flags::AF); // and eax, ecx
    assert_eq!(
        undefined_flags(&instr("0f af c1")),
        Flags::SF | Flags::ZF | Flags::AF | Flags::PF
    );
    assert_eq!(undefined_flags(&instr("d1 e0")), Flags::AF); // shl eax, 1
    assert_eq!(undefined_flags(&instr("c1 e0 00")), Flags::empty()); // shl eax, 0
    assert_eq!(undefined_flags(&instr("c1 e0 05")), Flags::AF | Flags::OF);
    assert_eq!(
        undefined_flags(&instr("c0 e0 09")),
        Flags::AF | Flags::OF | Flags::CF
    ); // shl al, 9
    assert_eq!(undefined_flags(&instr("c0 f8 09")), Flags::AF | Flags::OF); // sar al, 9
    assert_eq!(undefined_flags(&instr("d3 e0")), Flags::AF | Flags::OF); // shl eax, cl
    assert_eq!(
        undefined_flags(&instr("d2 e0")),
        Flags::AF | Flags::OF | Flags::CF
    ); // shl al, cl
    assert_eq!(undefined_flags(&instr("01 c8")), Flags::empty());
}

/// iced's instruction-info tables, converted to [`Flags`].
fn iced_flags(bits: u32) -> Flags {
    use iced_x86::RflagsBits as R;
    [
        (R::OF, Flags::OF),
        (R::SF, Flags::SF),
        (R::ZF, Flags::ZF),
        (R::AF, Flags::AF),
        (R::CF, Flags::CF),
        (R::PF, Flags::PF),
    ]
    .into_iter()
    .filter(|&(r, _)| bits & r != 0)
    .fold(Flags::empty(), |f, (_, flag)| f | flag)
}

#[test]
fn undefined_flags_agree_with_iced_tables() {
    // iced's tables are a second reading of the SDM. They do not mark CF undefined
    // for SHL/SHR of 8- and 16-bit operands by counts of at least the width, which
    // the SDM does ("CF is undefined for SHL and SHR where the count is greater than
    // or equal to the size of the destination operand").
    for (bytes, extra) in [
        ("21 c8", Flags::empty()),    // and eax, ecx
        ("0f af c1", Flags::empty()), // imul eax, ecx
        ("6b c1 05", Flags::empty()), // imul eax, ecx, 5
        ("d1 e0", Flags::empty()),    // shl eax, 1
        ("c1 e0 00", Flags::empty()), // shl eax, 0
        ("c1 e0 05", Flags::empty()), // shl eax, 5
        ("c0 e0 09", Flags::CF),      // shl al, 9
        ("66 c1 e8 10", Flags::CF),   // shr ax, 16
        ("c0 f8 09", Flags::empty()), // sar al, 9
        ("d3 e0", Flags::empty()),    // shl eax, cl
        ("d2 e0", Flags::CF),         // shl al, cl
        ("01 c8", Flags::empty()),    // add eax, ecx
        ("f7 d8", Flags::empty()),    // neg eax
        ("ff c0", Flags::empty()),    // inc eax
        ("0f b1 d1", Flags::empty()), // cmpxchg ecx, edx
    ] {
        let i = instr(bytes);
        assert_eq!(
            undefined_flags(&i),
            iced_flags(i.rflags_undefined()) | extra,
            "{bytes}"
        );
    }
}
