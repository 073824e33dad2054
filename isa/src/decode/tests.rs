use super::*;

/// Parse `"01 44 8b 08"` into bytes.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}

/// Decode one instruction from hex at address 0.
pub(crate) fn instr(s: &str) -> Instruction {
    decode(&hex(s), 0).expect("valid instruction")
}

/// Bytes and text from GNU `as`/`objdump -d -M intel` (binutils 2.42), lower-cased
/// with `, ` between operands: the formatter must print the same.
#[test]
fn formats_like_objdump() {
    let cases = [
        ("01 44 8b 08", "add dword ptr [rbx+rcx*4+0x8], eax"),
        ("f0 48 83 07 01", "lock add qword ptr [rdi], 0x1"),
        ("8b 05 00 01 00 00", "mov eax, dword ptr [rip+0x100]"),
        ("8a 66 f0", "mov ah, byte ptr [rsi-0x10]"),
        ("48 0f be 02", "movsx rax, byte ptr [rdx]"),
        ("4c 8d 44 c8 e0", "lea r8, [rax+rcx*8-0x20]"),
        ("f0 48 0f b1 0f", "lock cmpxchg qword ptr [rdi], rcx"),
        ("ff 54 24 08", "call qword ptr [rsp+0x8]"),
        ("c2 10 00", "ret 0x10"),
        ("75 1e", "jne 0x20"),
        ("69 ca 45 23 01 00", "imul ecx, edx, 0x12345"),
        ("48 0f 07", "sysretq"),
        ("0f 22 d8", "mov cr3, rax"),
        ("0f 01 10", "lgdt [rax]"),
        ("66 0f 1f 04 00", "nop word ptr [rax+rax*1]"),
    ];
    for (bytes, text) in cases {
        assert_eq!(format_intel(&instr(bytes)), text, "{bytes}");
    }
}

#[test]
fn disassembly_shows_bad_bytes_and_resumes() {
    // 06 (push es) and 27 (daa) are invalid in 64-bit mode: one `.byte` each.
    let lines = disassemble(&hex("90 06 27 f4"), 0x1000);
    let text: Vec<_> = lines.iter().map(|l| (l.addr, l.text.as_str())).collect();
    assert_eq!(
        text,
        [
            (0x1000, "nop"),
            (0x1001, ".byte 0x06"),
            (0x1002, ".byte 0x27"),
            (0x1003, "hlt")
        ]
    );
    assert_eq!(lines[3].bytes, [0xf4]);
}

#[test]
fn decode_errors_say_what_and_where() {
    assert_eq!(
        decode(&hex("8b"), 0x40),
        Err(DecodeError::Truncated { ip: 0x40, len: 1 })
    );
    assert!(matches!(
        decode(&hex("06 90"), 0),
        Err(DecodeError::Invalid { ip: 0, .. })
    ));
    // movsb and an fs-relative load are valid x86 but outside the subset.
    let err = decode_inst(&hex("a4"), 0x10).unwrap_err();
    assert!(err.to_string().contains("`movsb`"), "{err}");
    let fs_load = hex("64 48 8b 04 25 00 00 00 00");
    assert!(
        decode_inst(&fs_load, 0)
            .unwrap_err()
            .to_string()
            .contains("fs/gs")
    );
}

#[test]
fn decoded_inst_bundles_everything() {
    let d = decode_inst(&hex("f0 0f c1 07 90 90"), 0x2000).unwrap();
    assert_eq!(
        (d.len, d.next_ip(), d.bytes()),
        (4, 0x2004, &hex("f0 0f c1 07")[..])
    );
    assert!(
        d.class
            .contains(InstClass::LOCKED | InstClass::LOAD | InstClass::STORE)
    );
    assert!(d.uops.iter().all(|u| u.locked || !u.is_mem()));
}

/// The formatter's text is real assembler input: assembling it at the same address
/// gives an instruction that formats identically (same operation and operands,
/// whatever encoding the assembler picks).
#[test]
fn formatted_text_reassembles() {
    let listing = "01 44 8b 08 f0 48 83 07 01 8b 05 00 01 00 00 8a 66 f0 48 0f be 02 0f b7 0c 58 \
                   4c 8d 44 c8 e0 48 87 37 f0 0f c1 07 f0 48 0f b1 0f 0f b1 d1 50 5b ff d0 ff 54 24 08 \
                   c3 c2 10 00 ff 20 75 1e 0f 94 00 0f 4c 03 d3 e0 48 d1 fa c0 eb 03 69 ca 45 23 01 00 \
                   48 0f af 03 0f ae f0 0f ae e8 0f ae f8 0f ae 38 f3 90 0f a2 0f 05 48 0f 07 0f 30 \
                   0f 22 d8 44 0f 22 c0 0f 20 c0 0f 23 f8 48 cf cd 80 cc f4 0f 0b 0f 01 f8 0f 01 38 \
                   0f 01 10 0f 01 e8 66 0f 1f 04 00 5c ff 74 24 08 e8 00 01 00 00 48 b8 88 77 66 55 44 33 22 11";
    for line in disassemble(&hex(listing), 0x1000) {
        let src = format!(".base {:#x}\n{}", line.addr, line.text);
        let program = crate::asm::assemble(&src).unwrap_or_else(|e| panic!("{}: {e}", line.text));
        let again = decode(&program.sections[0].bytes, line.addr).unwrap();
        assert_eq!(format_intel(&again), line.text);
    }
}
