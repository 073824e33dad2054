use iced_x86::Instruction;

use super::flow::stack;
use super::*;
use crate::decode::decode;
use crate::decode::tests::hex;
use crate::uop::SysOp;

fn at(bytes: &str, ip: u64) -> Instruction {
    decode(&hex(bytes), ip).expect("valid")
}

fn uops(bytes: &str) -> Vec<Uop> {
    crack(&at(bytes, 0x1000)).expect("supported")
}

fn reg(gpr: Gpr, width: Width) -> Operand {
    Operand::Reg(RegRef::new(gpr, width))
}

fn rsp_add(delta: i64) -> Uop {
    let rsp = reg(Gpr::Rsp, Width::B8);
    Uop {
        dst: rsp,
        srcs: [rsp, Operand::Imm(delta as u64)],
        ..Uop::new(UopKind::Alu(AluOp::Add), Width::B8)
    }
}

#[test]
fn memory_destination_is_load_op_store() {
    // add dword ptr [rbx+rcx*4+0x8], eax
    let mem = MemRef {
        base: Some(Gpr::Rbx),
        index: Some(Gpr::Rcx),
        scale: 4,
        disp: 8,
    };
    let load = Uop {
        dst: T0,
        mem: Some(mem),
        ..Uop::new(UopKind::Load { sign: false }, Width::B4)
    };
    let add = Uop {
        dst: T0,
        srcs: [T0, reg(Gpr::Rax, Width::B4)],
        flags_written: Flags::ARITH,
        ..Uop::new(UopKind::Alu(AluOp::Add), Width::B4)
    };
    let store = Uop {
        mem: Some(mem),
        ..store_uop(Width::B4, T0)
    };
    assert_eq!(uops("01 44 8b 08"), [load, add, store]);
}

#[test]
fn lock_marks_every_uop_of_the_rmw() {
    // lock add qword ptr [rdi], 1: the immediate is an 8-bit one sign-extended.
    let u = uops("f0 48 83 07 01");
    assert_eq!(u.len(), 3);
    assert!(u.iter().all(|u| u.locked));
    assert_eq!(u[1].srcs[1], Operand::Imm(1));
    // xchg with memory is locked without a prefix (SDM Vol. 3A §9.1.2.2).
    assert!(
        uops("48 87 37")
            .iter()
            .filter(|u| u.is_mem())
            .all(|u| u.locked)
    );
    // ... but a plain add to memory is not.
    assert!(uops("01 44 8b 08").iter().all(|u| !u.locked));
}

#[test]
fn rip_relative_becomes_absolute() {
    // mov eax, dword ptr [rip+0x100] at 0x1000, 6 bytes long: 0x1106.
    let u = uops("8b 05 00 01 00 00");
    assert_eq!(
        u[0].mem,
        Some(MemRef {
            base: None,
            index: None,
            scale: 1,
            disp: 0x1106
        })
    );
    assert_eq!(u[0].dst, reg(Gpr::Rax, Width::B4));
}

#[test]
fn inc_and_dec_leave_carry_alone() {
    // inc ecx / dec byte ptr [rax]
    assert_eq!(uops("ff c1")[0].flags_written, Flags::ARITH - Flags::CF);
    assert_eq!(uops("fe 08")[1].flags_written, Flags::ARITH - Flags::CF);
}

#[test]
fn stack_instructions() {
    // call rax at 0x1000 (2 bytes): push 0x1002, then jump.
    let push_ret = Uop {
        mem: Some(stack(-8)),
        ..store_uop(Width::B8, Operand::Imm(0x1002))
    };
    let jump = |t| Uop {
        srcs: [t, Operand::None],
        ..Uop::new(UopKind::Branch { cond: None }, Width::B8)
    };
    assert_eq!(
        uops("ff d0"),
        [push_ret, rsp_add(-8), jump(reg(Gpr::Rax, Width::B8))]
    );
    // ret 0x10: pop the return address and 16 more bytes.
    let pop = Uop {
        dst: T0,
        mem: Some(stack(0)),
        ..Uop::new(UopKind::Load { sign: false }, Width::B8)
    };
    assert_eq!(uops("c2 10 00"), [pop, rsp_add(0x18), jump(T0)]);
    // pop rsp: RSP receives the loaded value, not the incremented pointer.
    let u = uops("5c");
    assert_eq!(u.last().unwrap().dst, reg(Gpr::Rsp, Width::B8));
    assert_eq!(u.last().unwrap().srcs[0], T0);
    // push qword ptr [rsp+8]: the source address uses RSP before the decrement.
    let u = uops("ff 74 24 08");
    assert_eq!(u[0].mem, Some(stack(8)));
    assert_eq!(u[1].mem, Some(stack(-8)));
}

#[test]
fn conditional_branch_targets_are_absolute() {
    // jne .+0x20 at 0x1000
    let u = uops("75 1e");
    assert_eq!(
        u[0].kind,
        UopKind::Branch {
            cond: Some(Cond::Ne)
        }
    );
    assert_eq!(u[0].srcs[0], Operand::Imm(0x1020));
}

#[test]
fn cmpxchg_register_forms_do_not_zero_extend_the_unchosen_register() {
    // cmpxchg ecx, edx: Select over the full registers, never a 32-bit write.
    let u = uops("0f b1 d1");
    let selects: Vec<_> = u
        .iter()
        .filter(|u| matches!(u.kind, UopKind::Alu(AluOp::Select(_))))
        .collect();
    assert_eq!(selects.len(), 2);
    assert!(selects.iter().all(|u| u.width == Width::B8));
}

#[test]
fn system_instructions_are_one_sys_uop() {
    let sys = |b: &str| {
        let u = uops(b);
        assert_eq!(u.len(), 1, "{b}");
        u[0]
    };
    let mov_cr3 = sys("0f 22 d8");
    assert_eq!(mov_cr3.kind, UopKind::Sys(SysOp::MovToCr(3)));
    assert_eq!(mov_cr3.srcs[0], reg(Gpr::Rax, Width::B8));
    assert_eq!(sys("0f 20 c0").kind, UopKind::Sys(SysOp::MovFromCr(0)));
    assert_eq!(sys("0f 23 f8").kind, UopKind::Sys(SysOp::MovToDr(7)));
    assert_eq!(sys("cd 80").kind, UopKind::Sys(SysOp::Int(0x80)));
    assert_eq!(sys("cc").kind, UopKind::Sys(SysOp::Int(3)));
    assert_eq!(sys("48 0f 07").kind, UopKind::Sys(SysOp::Sysret));
    assert_eq!(sys("48 cf").kind, UopKind::Sys(SysOp::Iret));
    assert_eq!(sys("fb").kind, UopKind::Sys(SysOp::Sti));
    assert_eq!(sys("fa").kind, UopKind::Sys(SysOp::Cli));
    assert_eq!(
        sys("0f 01 38").mem,
        Some(MemRef {
            base: Some(Gpr::Rax),
            index: None,
            scale: 1,
            disp: 0
        })
    );
    assert_eq!(sys("0f ae f0").kind, UopKind::Fence(FenceKind::Mfence));
}

#[test]
fn unsupported_forms_name_the_mnemonic() {
    // one-operand imul ecx; rep stosb; lock on a register destination is #UD.
    for (bytes, name) in [("f7 e9", "imul"), ("f3 aa", "stosb"), ("0f a3 c8", "bt")] {
        let err = crack(&at(bytes, 0)).unwrap_err();
        assert_eq!(err.mnemonic, name, "{bytes}");
    }
}
