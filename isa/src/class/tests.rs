use super::*;
use crate::crack::crack;
use crate::decode::tests::instr;
use crate::uop::UopKind;

fn class(bytes: &str) -> InstClass {
    classify(&instr(bytes))
}

#[test]
fn serializing_follows_sdm_9_3() {
    // SDM Vol. 3A §9.3, privileged serializing instructions: INVD, INVLPG, LGDT,
    // MOV to CR0/CR2/CR3/CR4, MOV to DR, WBINVD; non-privileged: CPUID, IRET, SERIALIZE.
    for (bytes, what) in [
        ("0f 08", "invd"),
        ("0f 01 38", "invlpg [rax]"),
        ("0f 01 10", "lgdt [rax]"),
        ("0f 22 c0", "mov cr0, rax"),
        ("0f 22 d0", "mov cr2, rax"),
        ("0f 22 d8", "mov cr3, rax"),
        ("0f 22 e0", "mov cr4, rax"),
        ("0f 23 f8", "mov dr7, rax"),
        ("0f 09", "wbinvd"),
    ] {
        assert_eq!(
            class(bytes) & (InstClass::SERIALIZING | InstClass::PRIVILEGED),
            InstClass::SERIALIZING | InstClass::PRIVILEGED,
            "{what}"
        );
    }
    for (bytes, what) in [
        ("0f a2", "cpuid"),
        ("48 cf", "iretq"),
        ("0f 01 e8", "serialize"),
    ] {
        let c = class(bytes);
        assert!(
            c.contains(InstClass::SERIALIZING) && !c.contains(InstClass::PRIVILEGED),
            "{what}"
        );
    }
    // §9.3: "MOV CR8 ... is not defined architecturally as a serializing instruction".
    assert_eq!(class("44 0f 22 c0"), InstClass::PRIVILEGED);
    // Reading a control register is privileged but not serializing.
    assert_eq!(class("0f 20 c0"), InstClass::PRIVILEGED);
}

#[test]
fn memory_ordering_instructions_are_not_serializing() {
    // §9.3: MFENCE, LFENCE, SFENCE and locked instructions are memory-ordering, not
    // serializing; SYSRET/SYSEXIT are absent from the list.
    assert_eq!(class("0f ae f0"), InstClass::MFENCE);
    assert_eq!(class("0f ae e8"), InstClass::LFENCE);
    assert_eq!(class("0f ae f8"), InstClass::SFENCE);
    assert_eq!(
        class("f0 48 83 07 01"),
        InstClass::LOAD | InstClass::STORE | InstClass::LOCKED
    );
    assert_eq!(
        class("48 0f 07"),
        InstClass::MODE_CHANGE | InstClass::PRIVILEGED
    );
    assert_eq!(
        class("0f 35"),
        InstClass::MODE_CHANGE | InstClass::PRIVILEGED
    );
    for c in [class("0f 05"), class("0f 34"), class("cd 80"), class("cc")] {
        assert_eq!(c, InstClass::MODE_CHANGE);
    }
}

#[test]
fn wrmsr_serializes_except_x2apic_and_tsc_deadline() {
    // §9.3: WRMSR to IA32_TSC_DEADLINE (6E0H) and the x2APIC MSRs (802H-83FH) is not
    // serializing.
    assert_eq!(class("0f 30"), InstClass::WRMSR | InstClass::PRIVILEGED);
    assert!(wrmsr_serializes(0x10)); // IA32_TIME_STAMP_COUNTER
    assert!(wrmsr_serializes(0xC000_0082)); // IA32_LSTAR
    assert!(wrmsr_serializes(0x6DF));
    assert!(!wrmsr_serializes(0x6E0));
    assert!(!wrmsr_serializes(0x830)); // x2APIC ICR
    assert!(!wrmsr_serializes(0x800));
    assert!(!wrmsr_serializes(0xBFF));
    assert!(wrmsr_serializes(0xC00));
}

#[test]
fn control_flow() {
    let b = InstClass::BRANCH;
    assert_eq!(class("75 1e"), b | InstClass::COND_BRANCH);
    assert_eq!(class("eb 00"), b);
    assert_eq!(class("ff e0"), b | InstClass::INDIRECT);
    assert_eq!(class("ff 20"), b | InstClass::INDIRECT | InstClass::LOAD);
    assert_eq!(
        class("e8 00 00 00 00"),
        b | InstClass::CALL | InstClass::STORE
    );
    assert_eq!(
        class("ff d0"),
        b | InstClass::CALL | InstClass::INDIRECT | InstClass::STORE
    );
    assert_eq!(
        class("c3"),
        b | InstClass::RET | InstClass::INDIRECT | InstClass::LOAD
    );
    assert_eq!(class("f4"), InstClass::HALT | InstClass::PRIVILEGED);
}

#[test]
fn memory_classes_agree_with_the_uops() {
    // classify reads iced's tables; crack is written by hand: they must agree on
    // loads, stores and atomicity for every instruction form.
    for bytes in [
        "01 44 8b 08",
        "f0 48 83 07 01",
        "8b 05 00 01 00 00",
        "89 07",
        "c6 07 01",
        "48 0f be 02",
        "4c 8d 44 c8 e0",
        "48 87 37",
        "48 87 f7",
        "f0 0f c1 07",
        "0f c1 c7",
        "f0 48 0f b1 0f",
        "0f b1 d1",
        "50",
        "5b",
        "8f 00",
        "ff 30",
        "6a 01",
        "ff d0",
        "ff 54 24 08",
        "c3",
        "c2 10 00",
        "ff 20",
        "0f 94 00",
        "0f 94 c0",
        "0f 4c 03",
        "d3 20",
        "48 0f af 03",
        "3b 07",
        "85 07",
        "f6 07 01",
        "0f ae 38",
        "f3 90",
        "66 0f 1f 04 00",
        "48 f7 1f",
        "f0 ff 0f",
    ] {
        let i = instr(bytes);
        let uops = crack(&i).unwrap();
        let mut from_uops = InstClass::empty();
        for u in &uops {
            match u.kind {
                UopKind::Load { .. } => from_uops |= InstClass::LOAD,
                UopKind::Store => from_uops |= InstClass::STORE,
                _ => {}
            }
            if u.locked {
                from_uops |= InstClass::LOCKED;
            }
        }
        let mask = InstClass::LOAD | InstClass::STORE | InstClass::LOCKED;
        assert_eq!(classify(&i) & mask, from_uops, "{bytes}: {uops:?}");
    }
}
