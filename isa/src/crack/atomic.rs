//! Atomic exchanges: `xchg`, `xadd`, `cmpxchg`. With a memory operand they are a
//! load, the operation and a store, all `locked` when the instruction is (see
//! [`crack`](super::crack)), so the machine performs the pair atomically.

use super::{CrackError, Cracker, Opnd, T0, T1};
use crate::flags::{Cond, Flags};
use crate::reg::{Gpr, RegRef, Width};
use crate::uop::{AluOp, Operand};

impl Cracker<'_> {
    pub(super) fn xchg(&mut self) -> Result<(), CrackError> {
        match (self.operand(0)?, self.operand(1)?) {
            (Opnd::Reg(a), Opnd::Reg(b)) => {
                let w = a.width;
                self.alu(
                    AluOp::Mov,
                    w,
                    T0,
                    [Operand::Reg(a), Operand::None],
                    Flags::empty(),
                );
                self.alu(
                    AluOp::Mov,
                    w,
                    Operand::Reg(a),
                    [Operand::Reg(b), Operand::None],
                    Flags::empty(),
                );
                self.alu(
                    AluOp::Mov,
                    w,
                    Operand::Reg(b),
                    [T0, Operand::None],
                    Flags::empty(),
                );
            }
            (Opnd::Mem(m, w), Opnd::Reg(r)) | (Opnd::Reg(r), Opnd::Mem(m, w)) => {
                self.load(T0, m, w, false);
                self.store(m, w, Operand::Reg(r));
                self.alu(
                    AluOp::Mov,
                    w,
                    Operand::Reg(r),
                    [T0, Operand::None],
                    Flags::empty(),
                );
            }
            _ => return Err(self.err("operand combination")),
        }
        Ok(())
    }

    /// SDM Vol. 2 XADD: `TEMP := SRC + DEST; SRC := DEST; DEST := TEMP`.
    pub(super) fn xadd(&mut self) -> Result<(), CrackError> {
        let Opnd::Reg(s) = self.operand(1)? else {
            return Err(self.err("operand combination"));
        };
        let src = Operand::Reg(s);
        match self.operand(0)? {
            Opnd::Reg(d) => {
                let w = d.width;
                self.alu(AluOp::Add, w, T0, [Operand::Reg(d), src], Flags::ARITH);
                self.alu(
                    AluOp::Mov,
                    w,
                    src,
                    [Operand::Reg(d), Operand::None],
                    Flags::empty(),
                );
                self.alu(
                    AluOp::Mov,
                    w,
                    Operand::Reg(d),
                    [T0, Operand::None],
                    Flags::empty(),
                );
            }
            Opnd::Mem(m, w) => {
                self.load(T1, m, w, false);
                self.alu(AluOp::Add, w, T0, [T1, src], Flags::ARITH);
                self.store(m, w, T0);
                self.alu(AluOp::Mov, w, src, [T1, Operand::None], Flags::empty());
            }
            Opnd::Imm(_) => return Err(self.err("operand combination")),
        }
        Ok(())
    }

    /// SDM Vol. 2 CMPXCHG: flags as `cmp acc, dest`; equal: `DEST := SRC`, else
    /// `acc := DEST`. A memory destination is always written (the old value when the
    /// comparison fails); a register destination or accumulator that is not chosen is
    /// left untouched, not even zero-extended, as on hardware.
    pub(super) fn cmpxchg(&mut self) -> Result<(), CrackError> {
        let Opnd::Reg(s) = self.operand(1)? else {
            return Err(self.err("operand combination"));
        };
        let dst = self.operand(0)?;
        let w = s.width;
        let acc = RegRef::new(Gpr::Rax, w);
        match dst {
            Opnd::Reg(d) => {
                self.alu(
                    AluOp::Mov,
                    w,
                    T0,
                    [Operand::Reg(d), Operand::None],
                    Flags::empty(),
                );
                self.alu(
                    AluOp::Sub,
                    w,
                    Operand::None,
                    [Operand::Reg(acc), T0],
                    Flags::ARITH,
                );
                self.write_if(Cond::E, d, Operand::Reg(s));
            }
            Opnd::Mem(m, _) => {
                self.load(T0, m, w, false);
                self.alu(
                    AluOp::Sub,
                    w,
                    Operand::None,
                    [Operand::Reg(acc), T0],
                    Flags::ARITH,
                );
                self.alu(
                    AluOp::Select(Cond::E),
                    w,
                    T1,
                    [Operand::Reg(s), T0],
                    Flags::empty(),
                );
                self.store(m, w, T1);
            }
            Opnd::Imm(_) => return Err(self.err("operand combination")),
        }
        self.write_if(Cond::Ne, acc, T0);
        Ok(())
    }

    /// `dst := value` only if `cond` holds, with no write at all otherwise (a 32-bit
    /// destination keeps its upper half, unlike `cmovcc`).
    fn write_if(&mut self, cond: Cond, dst: RegRef, value: Operand) {
        if dst.width == Width::B4 {
            let full = RegRef::full(dst.gpr);
            let srcs = [value, Operand::Reg(full)];
            self.alu(
                AluOp::Select(cond),
                Width::B8,
                Operand::Reg(full),
                srcs,
                Flags::empty(),
            );
        } else {
            self.alu(
                AluOp::Cmov(cond),
                dst.width,
                Operand::Reg(dst),
                [value, Operand::None],
                Flags::empty(),
            );
        }
    }
}
