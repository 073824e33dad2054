//! Directives, sections, labels and symbols of `isa::asm::assemble`.
//!
//! Expected bytes are written out from the Intel SDM encodings and the
//! documented directive semantics, not produced by the assembler.

use isa::asm::{Program, assemble};

fn program(src: &str) -> Program {
    assemble(src).unwrap_or_else(|error| panic!("{error}"))
}

fn bytes_of(program: &Program, section: &str) -> Vec<u8> {
    let found = program.sections.iter().find(|s| s.name == section);
    found
        .unwrap_or_else(|| panic!("no section {section}"))
        .bytes
        .clone()
}

#[test]
fn text_and_data_have_different_default_bases() {
    let p = program(".intel_syntax noprefix\ncode: nop\n.data\nvalue: .byte 7\n");
    let layout: Vec<(&str, u64)> = p
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.base))
        .collect();
    assert_eq!(layout, [(".text", 0x40_0000), (".data", 0x60_0000)]);
    assert_eq!(p.symbol("code"), Some(0x40_0000));
    assert_eq!(p.symbol("value"), Some(0x60_0000));
    assert_eq!(p.symbol("missing"), None);
}

#[test]
fn base_moves_a_section_and_its_labels() {
    let src =
        ".section .kernel, \"ax\", @progbits\n.base 0xffffffff80000000\nentry: hlt\nnext: ret\n";
    let p = program(src);
    assert_eq!(p.sections.len(), 1);
    assert_eq!(p.sections[0].name, ".kernel");
    assert_eq!(p.sections[0].base, 0xffff_ffff_8000_0000);
    assert_eq!(p.sections[0].bytes, [0xf4, 0xc3]);
    assert_eq!(p.symbol("next"), Some(0xffff_ffff_8000_0001));
}

#[test]
fn base_may_follow_labels_before_the_first_byte() {
    let p = program(".text\nstart:\n.base 0x1000\njmp start\n");
    assert_eq!(p.symbol("start"), Some(0x1000));
    assert_eq!(bytes_of(&p, ".text"), [0xeb, 0xfe]);
}

#[test]
fn org_is_an_offset_in_the_section_and_fills_with_zeros() {
    let p = program("nop\n.org 4\nafter: int3\n");
    assert_eq!(bytes_of(&p, ".text"), [0x90, 0, 0, 0, 0xcc]);
    assert_eq!(p.symbol("after"), Some(0x40_0004));
}

#[test]
fn org_with_a_label_is_an_address() {
    let p = program("start: nop\n.org start + 2\nint3\n");
    assert_eq!(bytes_of(&p, ".text"), [0x90, 0, 0xcc]);
}

#[test]
fn alignment_pads_code_with_nops_and_data_with_zeros() {
    let p = program(
        "nop\n.align 8\nret\n.data\n.byte 1\n.p2align 2\n.byte 2\n.balign 8, 0xee\n.byte 3\n",
    );
    // One byte in, so seven bytes of padding: GNU's 7-byte NOP `nopl 0x0(%rax)`.
    assert_eq!(
        bytes_of(&p, ".text"),
        [0x90, 0x0f, 0x1f, 0x80, 0, 0, 0, 0, 0xc3]
    );
    assert_eq!(bytes_of(&p, ".data"), [1, 0, 0, 0, 2, 0xee, 0xee, 0xee, 3]);
}

#[test]
fn alignment_respects_max_skip() {
    let p = program("nop\n.p2align 4,,3\nret\n");
    assert_eq!(bytes_of(&p, ".text"), [0x90, 0xc3]);
}

#[test]
fn data_directives_are_little_endian_and_take_label_expressions() {
    let src = ".data\nfirst: .byte 1, -1, 'A'\n.word 0x1234\n.long first\n.quad last - first, -2\nlast:\n";
    let p = program(src);
    let mut expected = vec![1, 0xff, 0x41, 0x34, 0x12, 0x00, 0x00, 0x60, 0x00];
    expected.extend(25u64.to_le_bytes()); // 3 + 2 + 4 + 8 + 8 bytes
    expected.extend((-2i64).to_le_bytes());
    assert_eq!(bytes_of(&p, ".data"), expected);
}

#[test]
fn strings_zero_and_skip() {
    let p = program(".data\n.ascii \"ab\", \"\\n\"\n.asciz \"c\"\n.zero 2\n.skip 3, 0xff\n");
    assert_eq!(
        bytes_of(&p, ".data"),
        [b'a', b'b', b'\n', b'c', 0, 0, 0, 0xff, 0xff, 0xff]
    );
}

#[test]
fn constants_from_equ_set_and_assignment() {
    let p =
        program(".equ PAGE, 0x1000\n.set FLAGS, PAGE | 3\nMASK = ~(PAGE - 1)\nmov eax, FLAGS\n");
    assert_eq!(p.symbol("PAGE"), Some(0x1000));
    assert_eq!(p.symbol("FLAGS"), Some(0x1003));
    assert_eq!(p.symbol("MASK"), Some(0xffff_ffff_ffff_f000));
    assert_eq!(bytes_of(&p, ".text"), [0xb8, 0x03, 0x10, 0x00, 0x00]);
}

#[test]
fn current_address_dot() {
    let p = program(".data\nmsg: .ascii \"hello\"\nlen = . - msg\n.byte len\n");
    assert_eq!(p.symbol("len"), Some(5));
    assert_eq!(bytes_of(&p, ".data").last(), Some(&5));
}

#[test]
fn sync_point_records_a_prefixed_symbol_and_no_bytes() {
    let p = program("nop\n.sync_point before_flush\nmfence\n");
    assert_eq!(p.symbol("sync_point.before_flush"), Some(0x40_0001));
    assert_eq!(bytes_of(&p, ".text"), [0x90, 0x0f, 0xae, 0xf0]);
}

#[test]
fn comments_and_ignored_directives() {
    let src = ".intel_syntax noprefix\n.globl main\n.type main, @function\n# full line\nmain: nop # trailing\n  ret ; also a comment\n";
    assert_eq!(bytes_of(&program(src), ".text"), [0x90, 0xc3]);
}

#[test]
fn branches_pick_short_or_near_forms() {
    let src = "top: nop\njmp top\njmp fwd\nnop\nnop\nfwd: je far\n.skip 200\nfar: ret\n";
    let text = bytes_of(&program(src), ".text");
    // jmp top: rel8 -3; jmp fwd: rel8 +2; je far: 0f 84 rel32 = 200.
    assert_eq!(
        text[..11],
        [0x90, 0xeb, 0xfd, 0xeb, 0x02, 0x90, 0x90, 0x0f, 0x84, 200, 0]
    );
}

#[test]
fn memory_operands_to_labels() {
    let src = "lea rax, [rip + value]\nmov eax, [value]\nmov ecx, dword ptr [value + 8]\nmov rdx, offset value\n.data\nvalue: .quad 0\n";
    let text = bytes_of(&program(src), ".text");
    // 0x600000 - (0x400000 + 7) = 0x1ffff9
    let mut expected = vec![0x48, 0x8d, 0x05, 0xf9, 0xff, 0x1f, 0x00];
    expected.extend([0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00]);
    expected.extend([0x8b, 0x0c, 0x25, 0x08, 0x00, 0x60, 0x00]);
    expected.extend([0x48, 0xc7, 0xc2, 0x00, 0x00, 0x60, 0x00]);
    assert_eq!(text, expected);
}

#[test]
fn control_registers_msrs_and_serialising_instructions() {
    let src = "mov cr3, rax\nmov rbx, cr0\nwrmsr\nrdtscp\ncpuid\nserialize\nsysretq\nsysret\niretq\nswapgs\n";
    let expected = [
        0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xc3, 0x0f, 0x30, 0x0f, 0x01, 0xf9, 0x0f, 0xa2, 0x0f, 0x01,
        0xe8, 0x48, 0x0f, 0x07, 0x0f, 0x07, 0x48, 0xcf, 0x0f, 0x01, 0xf8,
    ];
    assert_eq!(bytes_of(&program(src), ".text"), expected);
}

#[test]
fn listing_has_address_bytes_line_and_source() {
    let p = program("\n  start: mov eax, 1   # one\n  .p2align 2\n");
    let entries: Vec<(u64, usize, &str)> = p
        .listing
        .iter()
        .map(|e| (e.addr, e.line, e.source.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            (0x40_0000, 2, "start: mov eax, 1   # one"),
            (0x40_0005, 3, ".p2align 2")
        ]
    );
    assert_eq!(p.listing[0].bytes, [0xb8, 1, 0, 0, 0]);
    assert_eq!(p.listing[1].bytes, [0x0f, 0x1f, 0x00]);
}

#[test]
fn local_numeric_labels_refer_backward_and_forward() {
    let src = "1: nop\njmp 1b\njmp 1f\n1: jmp 1b\n";
    // jmp 1b: -3 from 0x400003; jmp 1f: +0 to 0x400005; jmp 1b (the second 1:): -2.
    assert_eq!(
        bytes_of(&program(src), ".text"),
        [0x90, 0xeb, 0xfd, 0xeb, 0x00, 0xeb, 0xfe]
    );
    assert!(
        program(src).symbols.is_empty(),
        "local labels are not exported"
    );
}

#[test]
fn alignment_fill_follows_the_section_flags() {
    // As GNU as 2.40 fills them: NOPs in executable sections, zeros elsewhere.
    let src = ".section .kcode, \"ax\", @progbits\n.base 0x1000\nnop\n.p2align 3\nnop\n\
               .section .plain\n.base 0x2000\nnop\n.p2align 3\nnop\n\
               .section .init\n.base 0x3000\nnop\n.p2align 2\n";
    let p = program(src);
    assert_eq!(
        bytes_of(&p, ".kcode"),
        [0x90, 0x0f, 0x1f, 0x80, 0, 0, 0, 0, 0x90]
    );
    assert_eq!(bytes_of(&p, ".plain"), [0x90, 0, 0, 0, 0, 0, 0, 0, 0x90]);
    assert_eq!(bytes_of(&p, ".init"), [0x90, 0x0f, 0x1f, 0x00]);
}

#[test]
fn fill_repeats_units_like_gnu() {
    // GNU as stores at most 4 bytes of the value; wider units are zero-extended.
    let p = program(".data\n.fill 1, 8, -1\n.fill 2, 2, 0x1234\n.fill 3\n.fill 2, 3, 0x112233\n");
    let expected = [
        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x34, 0x12, 0x34, 0x12, 0, 0, 0, 0x33, 0x22, 0x11,
        0x33, 0x22, 0x11,
    ];
    assert_eq!(bytes_of(&p, ".data"), expected);
}

#[test]
fn rept_blocks_repeat_and_nest() {
    let p = program(
        ".equ N, 2\n.data\n.rept N\n.byte 7\n.rept 2\n.byte 8\n.endr\n.endr\n.rept 0\n.byte 9\n.endr\n",
    );
    assert_eq!(bytes_of(&p, ".data"), [7, 8, 8, 7, 8, 8]);
    let lines: Vec<usize> = p.listing.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [4, 6, 6, 4, 6, 6],
        "repeated statements keep their source lines"
    );
}

#[test]
fn rept_with_local_labels() {
    // Each repetition defines a new `1:`; `1b` is the one just defined.
    let p = program(".rept 2\n1: jmp 1b\n.endr\n");
    assert_eq!(bytes_of(&p, ".text"), [0xeb, 0xfe, 0xeb, 0xfe]);
}

#[test]
fn if_else_picks_one_branch_on_earlier_constants() {
    let p = program(
        ".set MODE, 2\n.data\n.if MODE == 1\n.byte 1\n.elseif MODE == 2\n.byte 2\n.else\n.byte 3\n.endif\n\
         .if MODE\n.byte 4\n.else\n.byte 5\n.endif\n.if 0\n.byte 6\n.endif\n",
    );
    assert_eq!(bytes_of(&p, ".data"), [2, 4]);
}

#[test]
fn nested_if_inside_a_skipped_branch_is_skipped_whole() {
    // The inner `.else` belongs to the inner block: it must not revive the
    // outer, skipped branch. Skipped lines are not parsed at all.
    let p = program(
        ".data\n.if 0\n.if 1\n.byte 1\n.else\n.byte 2\nthis is not assembly\n.endif\n.byte 3\n\
         .else\n.if 0\n.byte 4\n.else\n.byte 5\n.endif\n.endif\n",
    );
    assert_eq!(bytes_of(&p, ".data"), [5]);
}

#[test]
fn ifdef_and_ifndef_see_symbols_defined_on_earlier_lines_only() {
    let p = program(
        ".data\nearly:\n.set FLAG, 0\n.ifdef FLAG\n.byte 1\n.endif\n.ifdef early\n.byte 2\n.endif\n\
         .ifdef late\n.byte 3\n.endif\n.ifndef late\n.byte 4\n.endif\n.ifndef FLAG\n.byte 5\n.endif\nlate:\n",
    );
    // `FLAG` is defined (even though its value is 0); `late` is not yet.
    assert_eq!(bytes_of(&p, ".data"), [1, 2, 4]);
}

#[test]
fn if_inside_rept_is_decided_on_each_repetition() {
    let p = program(
        ".set I, 0\n.data\n.rept 4\n.if I % 2 == 0\n.byte I\n.else\n.byte 0x80 | I\n.endif\n.set I, I + 1\n.endr\n",
    );
    assert_eq!(bytes_of(&p, ".data"), [0, 0x81, 2, 0x83]);
}

#[test]
fn skipped_branches_define_no_labels_and_emit_no_code() {
    let p = program(
        ".set SYSRET, 0\n.if SYSRET\nleave_by_sysret:\nsysretq\n.else\nleave_by_iret:\niretq\n.endif\n",
    );
    assert_eq!(bytes_of(&p, ".text"), [0x48, 0xcf]);
    assert_eq!(p.symbol("leave_by_sysret"), None);
    assert_eq!(p.symbol("leave_by_iret"), Some(0x400000));
}

#[test]
fn comparisons_and_logical_operators_follow_gnu() {
    // Comparisons give -1 (all ones) for true, `&& || !` give 1; `&` binds
    // tighter than `+`, and `+` tighter than `==` (GNU's precedence).
    let p = program(
        ".set A, 2\n.set B, 3\n.data\n.byte A == 2, A != 2, A < B, A > B, A <= 2, A >= 3, A <> B\n\
         .byte A == 2 && B == 3, A == 1 || B == 1, !A, !0, 4 + 2 & 1, 8 >> 1 + 1, 3 == 1 + 2\n",
    );
    assert_eq!(
        bytes_of(&p, ".data"),
        [0xff, 0, 0xff, 0, 0xff, 0, 0xff, 1, 0, 0, 1, 4, 5, 0xff]
    );
}
