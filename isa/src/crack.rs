//! Cracking: one decoded x86 instruction into the [`Uop`]s every model executes.
//!
//! The uop sequence is the *definition* of the instruction's architectural effect:
//! the reference interpreter runs it in order, the out-of-order core schedules it,
//! and [`crate::semantics::execute`] gives each uop its meaning. Read-modify-write
//! memory forms become load, ALU and store so a store buffer sees a real store;
//! `lock`ed forms (and `xchg` with memory) mark every uop `locked` so the machine can
//! make the load..store atomic. Memory operands are resolved once, here: RIP-relative
//! addresses become absolute displacements.

use iced_x86::{ConditionCode, FlowControl, Instruction, Mnemonic, OpKind, Register};
use thiserror::Error;

use crate::flags::{Cond, Flags};
use crate::reg::{Gpr, RegRef, Width};
use crate::uop::{AluOp, FenceKind, MemRef, Operand, Uop, UopKind};

mod atomic;
mod flow;
mod system;
#[cfg(test)]
mod tests;

/// Why an instruction has no uop sequence.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unsupported instruction `{mnemonic}`: {reason}")]
pub struct CrackError {
    /// Lower-case mnemonic, e.g. `movsb`, so the user can see what to avoid.
    pub mnemonic: String,
    /// What exactly is outside the supported subset.
    pub reason: &'static str,
}

/// The uops of `instr`, in program order.
///
/// Errors name the mnemonic for anything outside the subset synclab models (string
/// instructions, segment overrides, 32-bit addressing, x87/SSE, ...).
pub fn crack(instr: &Instruction) -> Result<Vec<Uop>, CrackError> {
    let mut c = Cracker {
        instr,
        uops: Vec::with_capacity(4),
    };
    c.run()?;
    if c.locked() {
        c.uops.iter_mut().for_each(|u| u.locked = true);
    }
    Ok(c.uops)
}

/// A resolved instruction operand.
#[derive(Copy, Clone, Debug)]
enum Opnd {
    Reg(RegRef),
    Mem(MemRef, Width),
    Imm(u64),
}

/// Temporary 0: the loaded memory value of a read-modify-write, or a saved target.
const T0: Operand = Operand::Temp(0);
/// Temporary 1: a second intermediate (`xadd`/`cmpxchg` with memory).
const T1: Operand = Operand::Temp(1);

struct Cracker<'a> {
    instr: &'a Instruction,
    uops: Vec<Uop>,
}

impl Cracker<'_> {
    fn err(&self, reason: &'static str) -> CrackError {
        CrackError {
            mnemonic: format!("{:?}", self.instr.mnemonic()).to_lowercase(),
            reason,
        }
    }

    fn push(&mut self, uop: Uop) {
        self.uops.push(uop);
    }

    fn run(&mut self) -> Result<(), CrackError> {
        let i = self.instr;
        let m = i.mnemonic();
        if i.has_rep_prefix() || i.has_repne_prefix() {
            return Err(self.err("rep prefixes are not modelled"));
        }
        if i.has_lock_prefix() && !self.lockable() {
            return Err(self.err("lock prefix on an instruction synclab does not lock"));
        }
        let arith = Flags::ARITH;
        match m {
            Mnemonic::Add => self.binary(AluOp::Add, arith, true),
            Mnemonic::Adc => self.binary(AluOp::Adc, arith, true),
            Mnemonic::Sub => self.binary(AluOp::Sub, arith, true),
            Mnemonic::Sbb => self.binary(AluOp::Sbb, arith, true),
            Mnemonic::And => self.binary(AluOp::And, arith, true),
            Mnemonic::Or => self.binary(AluOp::Or, arith, true),
            Mnemonic::Xor => self.binary(AluOp::Xor, arith, true),
            Mnemonic::Cmp => self.binary(AluOp::Sub, arith, false),
            Mnemonic::Test => self.binary(AluOp::And, arith, false),
            Mnemonic::Shl | Mnemonic::Sal => self.binary(AluOp::Shl, arith, true),
            Mnemonic::Shr => self.binary(AluOp::Shr, arith, true),
            Mnemonic::Sar => self.binary(AluOp::Sar, arith, true),
            // SDM Vol. 2 INC/DEC: "The CF flag is not affected."
            Mnemonic::Inc => self.unary(AluOp::Inc, arith - Flags::CF),
            Mnemonic::Dec => self.unary(AluOp::Dec, arith - Flags::CF),
            Mnemonic::Neg => self.unary(AluOp::Neg, arith),
            Mnemonic::Not => self.unary(AluOp::Not, Flags::empty()),
            Mnemonic::Imul => self.imul(),
            Mnemonic::Mov => self.mov(),
            Mnemonic::Movzx => self.extend(false),
            Mnemonic::Movsx | Mnemonic::Movsxd => self.extend(true),
            Mnemonic::Lea => self.lea(),
            Mnemonic::Xchg => self.xchg(),
            Mnemonic::Xadd => self.xadd(),
            Mnemonic::Cmpxchg => self.cmpxchg(),
            Mnemonic::Push => self.push_op(),
            Mnemonic::Pop => self.pop_op(),
            Mnemonic::Call => self.call(),
            Mnemonic::Ret => self.ret(),
            Mnemonic::Jmp => self.jmp(),
            Mnemonic::Nop => self.single(UopKind::Nop),
            Mnemonic::Mfence => self.single(UopKind::Fence(FenceKind::Mfence)),
            Mnemonic::Lfence => self.single(UopKind::Fence(FenceKind::Lfence)),
            Mnemonic::Sfence => self.single(UopKind::Fence(FenceKind::Sfence)),
            _ if i.flow_control() == FlowControl::ConditionalBranch => self.jcc(),
            _ if is_setcc(m) => self.setcc(),
            _ if is_cmovcc(m) => self.cmovcc(),
            _ => self.system(),
        }
    }

    /// SDM Vol. 2 LOCK: the prefix is legal only on read-modify-write memory forms of
    /// this list (others raise #UD); synclab models the subset below.
    fn lockable(&self) -> bool {
        let rmw = matches!(
            self.instr.mnemonic(),
            Mnemonic::Add
                | Mnemonic::Adc
                | Mnemonic::Sub
                | Mnemonic::Sbb
                | Mnemonic::And
                | Mnemonic::Or
                | Mnemonic::Xor
                | Mnemonic::Inc
                | Mnemonic::Dec
                | Mnemonic::Neg
                | Mnemonic::Not
                | Mnemonic::Xadd
                | Mnemonic::Cmpxchg
                | Mnemonic::Xchg
        );
        rmw && self.instr.op0_kind() == OpKind::Memory
    }

    /// Whether memory read-modify-writes of this instruction are atomic.
    fn locked(&self) -> bool {
        self.instr.has_lock_prefix()
            || (self.instr.mnemonic() == Mnemonic::Xchg && self.has_mem_operand())
    }

    fn has_mem_operand(&self) -> bool {
        (0..self.instr.op_count()).any(|n| self.instr.op_kind(n) == OpKind::Memory)
    }

    /// Operand `n`, resolved.
    fn operand(&self, n: u32) -> Result<Opnd, CrackError> {
        let i = self.instr;
        match i.op_kind(n) {
            OpKind::Register => Ok(Opnd::Reg(self.gpr(i.op_register(n))?)),
            OpKind::Memory => Ok(Opnd::Mem(self.memref()?, self.mem_width()?)),
            OpKind::NearBranch64 => Ok(Opnd::Imm(i.near_branch_target())),
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64 => Ok(Opnd::Imm(i.immediate(n))),
            _ => Err(self.err("operand kind not modelled")),
        }
    }

    fn gpr(&self, reg: Register) -> Result<RegRef, CrackError> {
        gpr_ref(reg).ok_or_else(|| self.err("only general-purpose register operands are modelled"))
    }

    fn mem_width(&self) -> Result<Width, CrackError> {
        Width::from_bytes(self.instr.memory_size().size())
            .ok_or_else(|| self.err("memory operand size not modelled"))
    }

    /// The memory operand's address; RIP-relative forms become absolute.
    fn memref(&self) -> Result<MemRef, CrackError> {
        let i = self.instr;
        if matches!(i.segment_prefix(), Register::FS | Register::GS) {
            return Err(self.err("fs/gs segment overrides are not modelled"));
        }
        if i.is_ip_rel_memory_operand() {
            return Ok(MemRef {
                base: None,
                index: None,
                scale: 1,
                disp: i.ip_rel_memory_address() as i64,
            });
        }
        let reg = |r: Register| -> Result<Option<Gpr>, CrackError> {
            match r {
                Register::None => Ok(None),
                r if r.is_gpr64() => Ok(gpr_ref(r).map(|g| g.gpr)),
                _ => Err(self.err("only 64-bit addressing is modelled")),
            }
        };
        Ok(MemRef {
            base: reg(i.memory_base())?,
            index: reg(i.memory_index())?,
            scale: i.memory_index_scale() as u8,
            disp: i.memory_displacement64() as i64,
        })
    }

    /// A value operand for a uop; memory operands are loaded into `T0` first.
    fn value(&mut self, o: Opnd) -> Operand {
        match o {
            Opnd::Reg(r) => Operand::Reg(r),
            Opnd::Imm(v) => Operand::Imm(v),
            Opnd::Mem(m, w) => {
                self.load(T0, m, w, false);
                T0
            }
        }
    }

    fn load(&mut self, dst: Operand, mem: MemRef, width: Width, sign: bool) {
        self.push(Uop {
            dst,
            mem: Some(mem),
            ..Uop::new(UopKind::Load { sign }, width)
        });
    }

    fn store(&mut self, mem: MemRef, width: Width, src: Operand) {
        self.push(Uop {
            mem: Some(mem),
            ..store_uop(width, src)
        });
    }

    fn alu(&mut self, op: AluOp, width: Width, dst: Operand, srcs: [Operand; 2], flags: Flags) {
        self.push(Uop {
            dst,
            srcs,
            flags_written: flags,
            ..Uop::new(UopKind::Alu(op), width)
        });
    }

    /// An instruction that is one operand-less uop.
    fn single(&mut self, kind: UopKind) -> Result<(), CrackError> {
        self.push(Uop::new(kind, Width::B8));
        Ok(())
    }

    /// `op dst, src` with the destination also the first source; `write` is false for
    /// `cmp`/`test`, which only set flags.
    fn binary(&mut self, op: AluOp, flags: Flags, write: bool) -> Result<(), CrackError> {
        let dst = self.operand(0)?;
        let src = self.operand(1)?;
        match dst {
            Opnd::Reg(d) => {
                let s = self.value(src);
                let out = if write {
                    Operand::Reg(d)
                } else {
                    Operand::None
                };
                self.alu(op, d.width, out, [Operand::Reg(d), s], flags);
            }
            Opnd::Mem(m, w) => {
                self.load(T0, m, w, false);
                let s = self.value(src);
                let out = if write { T0 } else { Operand::None };
                self.alu(op, w, out, [T0, s], flags);
                if write {
                    self.store(m, w, T0);
                }
            }
            Opnd::Imm(_) => return Err(self.err("immediate destination")),
        }
        Ok(())
    }

    /// `op dst` (inc, dec, neg, not).
    fn unary(&mut self, op: AluOp, flags: Flags) -> Result<(), CrackError> {
        match self.operand(0)? {
            Opnd::Reg(d) => self.alu(
                op,
                d.width,
                Operand::Reg(d),
                [Operand::Reg(d), Operand::None],
                flags,
            ),
            Opnd::Mem(m, w) => {
                self.load(T0, m, w, false);
                self.alu(op, w, T0, [T0, Operand::None], flags);
                self.store(m, w, T0);
            }
            Opnd::Imm(_) => return Err(self.err("immediate destination")),
        }
        Ok(())
    }

    /// Two- and three-operand `imul` (the one-operand RDX:RAX form is not modelled).
    fn imul(&mut self) -> Result<(), CrackError> {
        let Opnd::Reg(d) = self.operand(0)? else {
            return Err(self.err("one-operand imul is not modelled"));
        };
        let (a, b) = match self.instr.op_count() {
            2 => (Operand::Reg(d), self.operand(1)?),
            3 => {
                let a = self.operand(1)?;
                let b = self.operand(2)?;
                (self.value(a), b)
            }
            _ => return Err(self.err("one-operand imul is not modelled")),
        };
        let b = self.value(b);
        self.alu(AluOp::Imul, d.width, Operand::Reg(d), [a, b], Flags::ARITH);
        Ok(())
    }

    fn mov(&mut self) -> Result<(), CrackError> {
        let i = self.instr;
        if i.op0_kind() == OpKind::Register && !i.op0_register().is_gpr()
            || i.op_kind(1) == OpKind::Register && !i.op1_register().is_gpr()
        {
            return self.system();
        }
        match (self.operand(0)?, self.operand(1)?) {
            (Opnd::Reg(d), Opnd::Mem(m, _)) => self.load(Operand::Reg(d), m, d.width, false),
            (Opnd::Reg(d), s) => {
                let s = self.value(s);
                self.alu(
                    AluOp::Mov,
                    d.width,
                    Operand::Reg(d),
                    [s, Operand::None],
                    Flags::empty(),
                );
            }
            (Opnd::Mem(m, w), s) => {
                let s = self.value(s);
                self.store(m, w, s);
            }
            (Opnd::Imm(_), _) => return Err(self.err("immediate destination")),
        }
        Ok(())
    }

    /// `movzx`/`movsx`/`movsxd`.
    fn extend(&mut self, sign: bool) -> Result<(), CrackError> {
        let Opnd::Reg(d) = self.operand(0)? else {
            return Err(self.err("memory destination"));
        };
        match self.operand(1)? {
            Opnd::Mem(m, w) => self.load(Operand::Reg(d), m, w, sign),
            Opnd::Reg(s) => {
                let op = if sign {
                    AluOp::Sext(s.width)
                } else {
                    AluOp::Zext(s.width)
                };
                self.alu(
                    op,
                    d.width,
                    Operand::Reg(d),
                    [Operand::Reg(s), Operand::None],
                    Flags::empty(),
                );
            }
            Opnd::Imm(_) => return Err(self.err("immediate source")),
        }
        Ok(())
    }

    fn lea(&mut self) -> Result<(), CrackError> {
        let Opnd::Reg(d) = self.operand(0)? else {
            return Err(self.err("lea needs a register"));
        };
        let mem = self.memref()?;
        self.push(Uop {
            dst: Operand::Reg(d),
            mem: Some(mem),
            ..Uop::new(UopKind::Alu(AluOp::Lea), d.width)
        });
        Ok(())
    }

    fn cond(&self) -> Result<Cond, CrackError> {
        match self.instr.condition_code() {
            ConditionCode::None => Err(self.err("branch without a condition code (loop/jrcxz)")),
            cc => Ok(Cond::ALL[cc as usize - 1]),
        }
    }

    fn setcc(&mut self) -> Result<(), CrackError> {
        let cond = self.cond()?;
        match self.operand(0)? {
            Opnd::Reg(d) => self.alu(
                AluOp::Setcc(cond),
                Width::B1,
                Operand::Reg(d),
                [Operand::None; 2],
                Flags::empty(),
            ),
            Opnd::Mem(m, _) => {
                self.alu(
                    AluOp::Setcc(cond),
                    Width::B1,
                    T0,
                    [Operand::None; 2],
                    Flags::empty(),
                );
                self.store(m, Width::B1, T0);
            }
            Opnd::Imm(_) => return Err(self.err("operand combination")),
        }
        Ok(())
    }

    /// `cmovcc`; a memory source is loaded whether or not the condition holds (SDM).
    fn cmovcc(&mut self) -> Result<(), CrackError> {
        let cond = self.cond()?;
        let Opnd::Reg(d) = self.operand(0)? else {
            return Err(self.err("operand combination"));
        };
        let src = self.operand(1)?;
        let s = self.value(src);
        self.alu(
            AluOp::Cmov(cond),
            d.width,
            Operand::Reg(d),
            [s, Operand::None],
            Flags::empty(),
        );
        Ok(())
    }
}

/// The [`RegRef`] of an iced general-purpose register.
pub(crate) fn gpr_ref(reg: Register) -> Option<RegRef> {
    if !reg.is_gpr() {
        return None;
    }
    let gpr = Gpr::from_index(reg.full_register().number())?;
    let width = Width::from_bytes(reg.size())?;
    let high8 = matches!(
        reg,
        Register::AH | Register::CH | Register::DH | Register::BH
    );
    Some(RegRef { gpr, width, high8 })
}

/// A store of `src` (memory address left for the caller).
fn store_uop(width: Width, src: Operand) -> Uop {
    Uop {
        srcs: [src, Operand::None],
        ..Uop::new(UopKind::Store, width)
    }
}

fn is_setcc(m: Mnemonic) -> bool {
    (Mnemonic::Seta as u16..=Mnemonic::Sets as u16).contains(&(m as u16))
}

fn is_cmovcc(m: Mnemonic) -> bool {
    (Mnemonic::Cmova as u16..=Mnemonic::Cmovs as u16).contains(&(m as u16))
}
