//! System instructions: each is a single [`UopKind::Sys`] uop that the machine model
//! carries out (privilege checks, MSRs, mode switches). Only operands the model
//! needs are attached: the GPR of `mov` to/from a control or debug register, and the
//! address of `invlpg`/`clflush`.

use iced_x86::{Mnemonic, OpKind, Register};

use super::{CrackError, Cracker, Opnd};
use crate::reg::{RegRef, Width};
use crate::uop::{Operand, SysOp, Uop, UopKind};

impl Cracker<'_> {
    pub(super) fn system(&mut self) -> Result<(), CrackError> {
        let i = self.instr;
        let mut uop = Uop::new(UopKind::Sys(SysOp::Hlt), Width::B8);
        let op = match i.mnemonic() {
            Mnemonic::Cpuid => SysOp::Cpuid,
            Mnemonic::Serialize => SysOp::Serialize,
            Mnemonic::Syscall => SysOp::Syscall,
            Mnemonic::Sysret | Mnemonic::Sysretq => SysOp::Sysret,
            Mnemonic::Sysenter => SysOp::Sysenter,
            Mnemonic::Sysexit | Mnemonic::Sysexitq => SysOp::Sysexit,
            Mnemonic::Iret | Mnemonic::Iretd | Mnemonic::Iretq => SysOp::Iret,
            Mnemonic::Int => SysOp::Int(i.immediate8()),
            Mnemonic::Int3 => SysOp::Int(3),
            Mnemonic::Hlt => SysOp::Hlt,
            Mnemonic::Ud2 => SysOp::Ud2,
            Mnemonic::Swapgs => SysOp::Swapgs,
            Mnemonic::Sti => SysOp::Sti,
            Mnemonic::Cli => SysOp::Cli,
            Mnemonic::Wrmsr => SysOp::Wrmsr,
            Mnemonic::Rdmsr => SysOp::Rdmsr,
            Mnemonic::Rdtsc => SysOp::Rdtsc,
            Mnemonic::Rdtscp => SysOp::Rdtscp,
            Mnemonic::Wbinvd => SysOp::Wbinvd,
            Mnemonic::Invd => SysOp::Invd,
            Mnemonic::Pause => SysOp::Pause,
            Mnemonic::Lgdt
            | Mnemonic::Lidt
            | Mnemonic::Lldt
            | Mnemonic::Ltr
            | Mnemonic::Invpcid => SysOp::DescriptorLoad,
            Mnemonic::Invlpg | Mnemonic::Clflush => {
                uop.mem = Some(self.memref()?);
                if i.mnemonic() == Mnemonic::Invlpg {
                    SysOp::Invlpg
                } else {
                    SysOp::Clflush
                }
            }
            Mnemonic::Mov => self.mov_control(&mut uop)?,
            _ => return Err(self.err("not in the modelled subset")),
        };
        uop.kind = UopKind::Sys(op);
        self.push(uop);
        Ok(())
    }

    /// `mov crN, r64`, `mov r64, crN`, `mov drN, r64` (SDM Vol. 2 MOV—Move to/from
    /// Control/Debug Registers); the GPR is always the full 64-bit register.
    fn mov_control(&self, uop: &mut Uop) -> Result<SysOp, CrackError> {
        let i = self.instr;
        let (special, gpr_op, to_special) =
            if i.op0_kind() == OpKind::Register && !i.op0_register().is_gpr() {
                (i.op0_register(), 1, true)
            } else {
                (i.op1_register(), 0, false)
            };
        let Opnd::Reg(r) = self.operand(gpr_op)? else {
            return Err(self.err("operand combination"));
        };
        let gpr = Operand::Reg(RegRef::full(r.gpr));
        let n = special.number() as u8;
        let is_cr = (Register::CR0..=Register::CR15).contains(&special);
        let is_dr = (Register::DR0..=Register::DR15).contains(&special);
        match (is_cr, is_dr, to_special) {
            (true, _, true) => {
                uop.srcs[0] = gpr;
                Ok(SysOp::MovToCr(n))
            }
            (true, _, false) => {
                uop.dst = gpr;
                Ok(SysOp::MovFromCr(n))
            }
            (_, true, true) => {
                uop.srcs[0] = gpr;
                Ok(SysOp::MovToDr(n))
            }
            _ => Err(self.err("segment and debug-register reads are not modelled")),
        }
    }
}
