//! Stack and control flow: `push`, `pop`, `call`, `ret`, `jmp`, `jcc`. Stack
//! pointer updates are flag-less adds; a call is a store of the return address, the
//! RSP update and a branch, so a model sees the store like any other.

use super::{CrackError, Cracker, Opnd, T0};
use crate::flags::{Cond, Flags};
use crate::reg::{Gpr, RegRef, Width};
use crate::uop::{AluOp, MemRef, Operand, Uop, UopKind};

impl Cracker<'_> {
    fn rsp_add(&mut self, delta: i64) {
        let rsp = Operand::Reg(RegRef::full(Gpr::Rsp));
        self.alu(
            AluOp::Add,
            Width::B8,
            rsp,
            [rsp, Operand::Imm(delta as u64)],
            Flags::empty(),
        );
    }

    fn branch(&mut self, cond: Option<Cond>, target: Operand) {
        self.push(Uop {
            srcs: [target, Operand::None],
            ..Uop::new(UopKind::Branch { cond }, Width::B8)
        });
    }

    /// A control-transfer target as a uop operand: memory targets are loaded into
    /// `T0`, and a target in RSP is copied first because the stack update changes it.
    fn target(&mut self) -> Result<Operand, CrackError> {
        Ok(match self.operand(0)? {
            Opnd::Reg(r) if r.gpr == Gpr::Rsp => {
                self.alu(
                    AluOp::Mov,
                    Width::B8,
                    T0,
                    [Operand::Reg(r), Operand::None],
                    Flags::empty(),
                );
                T0
            }
            o => self.value(o),
        })
    }

    pub(super) fn push_op(&mut self) -> Result<(), CrackError> {
        let delta = i64::from(self.instr.stack_pointer_increment());
        let w = Width::from_bytes(delta.unsigned_abs() as usize)
            .ok_or_else(|| self.err("push size"))?;
        let src = self.operand(0)?;
        let s = self.value(src);
        self.store(stack(delta), w, s);
        self.rsp_add(delta);
        Ok(())
    }

    /// SDM Vol. 2 POP: `pop rsp` loads the old top of stack into RSP (the increment is
    /// overwritten); a memory destination's address is computed after the increment.
    pub(super) fn pop_op(&mut self) -> Result<(), CrackError> {
        let delta = i64::from(self.instr.stack_pointer_increment());
        let w = Width::from_bytes(delta as usize).ok_or_else(|| self.err("pop size"))?;
        match self.operand(0)? {
            Opnd::Reg(r) if r.gpr == Gpr::Rsp => {
                self.load(T0, stack(0), w, false);
                self.rsp_add(delta);
                self.alu(
                    AluOp::Mov,
                    w,
                    Operand::Reg(r),
                    [T0, Operand::None],
                    Flags::empty(),
                );
            }
            Opnd::Reg(r) => {
                self.load(Operand::Reg(r), stack(0), w, false);
                self.rsp_add(delta);
            }
            Opnd::Mem(m, _) => {
                self.load(T0, stack(0), w, false);
                self.rsp_add(delta);
                self.store(m, w, T0);
            }
            Opnd::Imm(_) => return Err(self.err("operand combination")),
        }
        Ok(())
    }

    pub(super) fn call(&mut self) -> Result<(), CrackError> {
        let target = self.target()?;
        self.store(stack(-8), Width::B8, Operand::Imm(self.instr.next_ip()));
        self.rsp_add(-8);
        self.branch(None, target);
        Ok(())
    }

    pub(super) fn ret(&mut self) -> Result<(), CrackError> {
        self.load(T0, stack(0), Width::B8, false);
        self.rsp_add(i64::from(self.instr.stack_pointer_increment()));
        self.branch(None, T0);
        Ok(())
    }

    pub(super) fn jmp(&mut self) -> Result<(), CrackError> {
        let target = self.target()?;
        self.branch(None, target);
        Ok(())
    }

    pub(super) fn jcc(&mut self) -> Result<(), CrackError> {
        let cond = self.cond()?;
        let Opnd::Imm(target) = self.operand(0)? else {
            return Err(self.err("branch target"));
        };
        self.branch(Some(cond), Operand::Imm(target));
        Ok(())
    }
}

/// `[rsp + disp]`.
pub(super) fn stack(disp: i64) -> MemRef {
    MemRef {
        base: Some(Gpr::Rsp),
        index: None,
        scale: 1,
        disp,
    }
}
